{{ stage_services('MMR') }}
