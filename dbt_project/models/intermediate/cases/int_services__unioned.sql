{{ config(**by_country()) }}
{{ union_countries('services') }}
