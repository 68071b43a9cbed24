{{ stage_services('UKR') }}
