{{ stage_services('NGA') }}
