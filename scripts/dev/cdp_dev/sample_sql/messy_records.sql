-- Records staging cannot use, per table: a copy without its key, a copy with a bad
-- timestamp, and exact re-deliveries. They are extra rows, so the real data stays
-- complete.
insert into $table by name
select * replace (null as "$key")
from $table order by hash($table, 'nokey') limit $per_table;

insert into $table by name
select * replace (pick(['not a date', '2026-02-30T10:00:00Z', '31/12/2025'],
    hash("$key"), 'badts') as "$timestamp")
from $table where "$key" <> ''
order by hash($table, 'badts') limit $per_table;

insert into $table by name
select * from $table where "$key" <> ''
order by hash($table, 'again') limit $redeliveries;
