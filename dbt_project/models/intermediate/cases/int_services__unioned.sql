{{ union_countries('services') }}
