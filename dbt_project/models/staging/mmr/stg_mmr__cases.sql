{{ stage_cases('MMR') }}
