select distinct 'crm_id' as namespace, "Id" as identifier, person_id
from crm_contacts where "Id" <> ''
union all
select distinct 'support_id', "Id", person_id from support_contacts where "Id" <> ''
union all
select distinct 'campaign_id', "RecipientId", person_id
from campaign_recipients where "RecipientId" <> ''
