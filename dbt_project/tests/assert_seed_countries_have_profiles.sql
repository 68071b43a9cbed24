{#- Every country in the categorisation seed has an export profile (and so its staging models):
    a new country is its profile plus its seed rows, and neither goes without the other. -#}
{%- set codes = country_profiles().keys() | list %}
select country_code, count(*) as options
from {{ ref('categorisation') }}
where country_code not in ('{{ codes | join("', '") }}')
group by country_code
