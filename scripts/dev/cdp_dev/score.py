"""`cdp score`: how well the identity graph matches the generator's ground truth.

Pairwise over same-person decisions between source records (CRM contacts, Support
contacts, Campaign recipients) present in both the truth and profile.identities:
precision = true same-person pairs among predicted ones, recall = predicted among
true ones. Also counts people wrongly merged with someone else, and people wrongly
split over several contacts. Computed in DuckDB."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from cdp.errors import CdpError

SCORE_SQL = """
with

truth as (
    select namespace, identifier, person_id from read_parquet(?)
),

predicted as (
    select namespace, identifier, contact_key from profile.identities
    where namespace <> 'email'
),

records as (
    select truth.person_id, predicted.contact_key
    from truth inner join predicted using (namespace, identifier)
),

cells as (
    select person_id, contact_key, count(*) as n from records group by all
),

people_per_contact as (
    select contact_key, count(distinct person_id) as people from records group by all
),

contacts_per_person as (
    select person_id, count(distinct contact_key) as contacts from records group by all
)

select
    (select count(*) from records) as records,
    (select sum(n * (n - 1) / 2) from cells) as true_positive_pairs,
    (select sum(n * (n - 1) / 2) from (select count(*) as n from records group by contact_key))
        as predicted_pairs,
    (select sum(n * (n - 1) / 2) from (select count(*) as n from records group by person_id))
        as true_pairs,
    (select count(distinct person_id) from records
     where contact_key in (select contact_key from people_per_contact where people > 1))
        as wrongly_merged_people,
    (select count(*) from contacts_per_person where contacts > 1) as wrongly_split_people,
    (select count(distinct person_id) from records) as people
"""


@dataclass(frozen=True)
class IdentityScore:
    records: int
    people: int
    true_positive_pairs: int
    predicted_pairs: int
    true_pairs: int
    wrongly_merged_people: int
    wrongly_split_people: int

    @property
    def precision(self) -> float:
        return self.true_positive_pairs / self.predicted_pairs if self.predicted_pairs else 1.0

    @property
    def recall(self) -> float:
        return self.true_positive_pairs / self.true_pairs if self.true_pairs else 1.0

    @property
    def f1(self) -> float:
        total = self.precision + self.recall
        return 2 * self.precision * self.recall / total if total else 0.0


def score(con: duckdb.DuckDBPyConnection, truth: Path) -> IdentityScore:
    if not truth.exists():
        raise CdpError(f"no ground truth at {truth} (written by `cdp generate`)")
    row = con.execute(SCORE_SQL, [str(truth)]).fetchone()
    records, tp, predicted, true, merged, split, people = (int(value or 0) for value in row)
    return IdentityScore(records, people, tp, predicted, true, merged, split)
