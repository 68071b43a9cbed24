{{ stage_services('KEN') }}
