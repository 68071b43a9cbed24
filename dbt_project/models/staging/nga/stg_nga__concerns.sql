{{ stage_concerns('NGA') }}
