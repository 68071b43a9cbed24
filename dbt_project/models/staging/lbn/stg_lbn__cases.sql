{{ stage_cases('LBN') }}
