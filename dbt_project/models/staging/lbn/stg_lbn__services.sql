{{ stage_services('LBN') }}
