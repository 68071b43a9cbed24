{{ stage_cases('KEN') }}
