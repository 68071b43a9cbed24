{{ stage_cases('UKR') }}
