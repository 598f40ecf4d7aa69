-- Label propagation over the seeds of this build (int_identity_seeds) and the
-- edges between them: every node gets the smallest node id of its component,
-- its oldest member. Integers only, in a statement of its own: DuckDB holds a
-- recursion's state until the statement ends, so joining identifiers here
-- would hold it while they are joined.

{{ config(materialized='table') }}

with recursive

seeds as (
    select * from {{ ref('int_identity_seeds') }}
    where node_id is not null
),

-- the links from a seed: by construction their other end is a seed too.
-- Materialized once: inlined, every step of the recursion joins the edges with the
-- seeds again (at 10,000,000 contacts: 45M edges, 28M seeds; over 39 GB spilled
-- and unfinished, against 45 s materialized).
edges as materialized (
    select
        graph_edges.from_id,
        graph_edges.to_id
    from {{ ref('int_identity_edges') }} as graph_edges
    inner join seeds
        on
            graph_edges.from_id = seeds.node_id
            and graph_edges._invocation_id = seeds._invocation_id
),

labels (node_id, label) using key (node_id) as (
    select
        seeds.node_id,
        seeds.node_id
    from seeds
    union
    select
        candidates.node_id,
        candidates.label
    from (
        select
            edges.to_id as node_id,
            min(labels.label) as label
        from labels
        inner join edges on labels.node_id = edges.from_id
        group by edges.to_id
    ) as candidates
    inner join recurring.labels as held_label
        on candidates.node_id = held_label.node_id
    where candidates.label < held_label.label
),

final as (
    select
        labels.node_id,
        labels.label,
        count(*) over (partition by labels.label) as component_size,
        (select max(seeds._invocation_id) from seeds) as _invocation_id
    from labels
)

select * from final
