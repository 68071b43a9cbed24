{{ union_countries('concerns') }}
