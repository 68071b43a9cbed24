{{ stage_cases('BGD') }}
