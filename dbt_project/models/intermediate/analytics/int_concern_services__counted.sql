{#- The cells of mart_services_by_concern, per country: each in-scope child (latest exports) is
    counted once in each of its cells, by country, sex group and concern category:
    cell = 'first_service': by the days from registration to its first implemented service with a
        date (null when none; services dated before registration left out); children, and of them
        children_without_service (no implemented service at all);
    cell = 'served': by the service category of its implemented services; children served.
    Kept by country: one country's next export counts that country's cells again, and the mart sums
    the cells of every country into its groups (ALL included) without reading every child again. -#}
{{ config(**by_country()) }}
with

children as (
    {#- Each in-scope child of the rebuilt countries once: its own country's total row. #}
    select case_key, country_code, sex_group, registration_date
    from {{ own_country_groups() }} as grouped
    where dimension = 'total'
),

implemented as (
    select case_key, country_code, service_category, service_date
    from {{ country_rows('int_services__resolved') }} as services
    where row_outcome = 'harmonised' and is_implemented
),

first_service as (
    select
        children.case_key,
        children.country_code,
        children.sex_group,
        count(implemented.case_key) as implemented_services,
        min(case when implemented.service_date >= children.registration_date
            then {{ days_between('children.registration_date', 'implemented.service_date') }} end)
            as days_to_first_service
    from children
    left join implemented
        on implemented.case_key = children.case_key
        and implemented.country_code = children.country_code
    group by children.case_key, children.country_code, children.sex_group
),

concerned as (
    select
        first_service.case_key,
        first_service.country_code,
        first_service.sex_group,
        concerns.concern_category,
        first_service.implemented_services,
        first_service.days_to_first_service
    from first_service
    inner join {{ country_rows('int_case_concerns__distinct') }} as concerns
        on concerns.case_key = first_service.case_key
        and concerns.country_code = first_service.country_code
),

first_service_cells as (
    select
        country_code,
        sex_group,
        concern_category,
        days_to_first_service,
        count(*) as children,
        sum(case when implemented_services = 0 then 1 else 0 end) as children_without_service
    from concerned
    group by country_code, sex_group, concern_category, days_to_first_service
),

served_cells as (
    {#- A child counts once per concern and service category: concerns and services are made
        distinct per child here and in int_case_concerns__distinct. #}
    select
        concerned.country_code,
        concerned.sex_group,
        concerned.concern_category,
        services.service_category,
        count(*) as children
    from concerned
    inner join (select distinct case_key, country_code, service_category from implemented) as services
        on services.case_key = concerned.case_key
        and services.country_code = concerned.country_code
    group by concerned.country_code, concerned.sex_group, concerned.concern_category,
        services.service_category
)

select
    'first_service' as cell,
    country_code,
    sex_group,
    concern_category,
    days_to_first_service,
    cast(null as {{ dbt.type_string() }}) as service_category,
    cast(children as {{ dbt.type_bigint() }}) as children,
    cast(children_without_service as {{ dbt.type_bigint() }}) as children_without_service
from first_service_cells
union all
select
    'served' as cell,
    country_code,
    sex_group,
    concern_category,
    null as days_to_first_service,
    service_category,
    cast(children as {{ dbt.type_bigint() }}) as children,
    null as children_without_service
from served_cells
