{{ config(**by_country()) }}
{{ union_countries('cases') }}
