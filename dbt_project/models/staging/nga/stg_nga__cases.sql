{{ stage_cases('NGA') }}
