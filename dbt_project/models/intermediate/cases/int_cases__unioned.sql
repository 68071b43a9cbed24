{{ union_countries('cases') }}
