-- Deterministic randomness and the calendar of extract batches.
create macro rnd(k, tag) as
    (hash(k, tag, $seed) % 1000000007)::double / 1000000007;
create macro pick(items, k, tag) as
    items[1 + (hash(k, tag, $seed) % len(items))::bigint];
create macro t1() as timestamp '$t1';
create macro ms(ts) as date_trunc('millisecond', ts);
-- The batch whose extract first contains a record modified at ts.
create macro batch_of(ts) as case
    when ts <= t1() then 1
    else least($batches, 1 + ceil(epoch(ts - t1()) / 86400)::int)
end;
-- Most records are delivered in that batch; a few arrive one or two batches late.
create macro delivered_in(ts, k, tag, late_rate) as case
    when rnd(k, tag || ':late') < late_rate
        then least($batches, batch_of(ts) + 1 + floor(rnd(k, tag || ':lag') * 2)::int)
    else batch_of(ts)
end;
-- When a record first exists: within two years of history, or in a delta batch.
create macro born(k, tag, rate) as ms(case
    when $batches > 1 and rnd(k, tag) < rate * ($batches - 1)
        then t1() + to_days(floor(rnd(k, tag) / rate)::int)
            + to_milliseconds(floor(rnd(k, tag || ':s') * 86400000)::bigint)
    else t1() - to_milliseconds(floor(rnd(k, tag || ':s') * 730 * 86400000)::bigint)
end);
-- A moment in a random delta batch after ts (null when there is no delta batch).
create macro delta_time(k, tag) as case when $batches > 1 then ms(
    t1() + to_days(floor(rnd(k, tag) * ($batches - 1))::int)
        + to_milliseconds(floor(rnd(k, tag || ':s') * 86400000)::bigint)) end;
-- Source systems write ISO 8601 in several ways; all mean the same UTC instant.
create macro iso(ts, k, tag) as case
    when ts is null then null
    when rnd(k, tag || ':fmt') < 0.80 then strftime(ts, '%Y-%m-%dT%H:%M:%S.%gZ')
    when rnd(k, tag || ':fmt') < 0.90
        then strftime(ts + interval 2 hour, '%Y-%m-%dT%H:%M:%S.%g') || '+02:00'
    else strftime(ts, '%Y-%m-%d %H:%M:%S')
end;
create macro messy_email(e, k, tag) as case
    when e is null then null
    when rnd(k, tag) < 0.04 then upper(e)
    when rnd(k, tag) < 0.12 then upper(e[1]) || e[2:]
    when rnd(k, tag) < 0.17 then ' ' || e || '  '
    else e
end;
