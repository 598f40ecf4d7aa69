create table deliveries as
select
    d,
    'DM' || (1000 + d) as delivery_id,
    pick($delivery_labels, d, 'label') || ' #' || (1000 + d) as label,
    -- a newsletter every other week in the history, then one send a day
    case when d < $history_deliveries
        then t1() - to_days(($history_deliveries - d) * 14) + interval 10 hour
        else t1() + to_days(d - $history_deliveries) + interval 10 hour end as sent_at
from range($history_deliveries + greatest(0, $batches - 1)) as t(d)
