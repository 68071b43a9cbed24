{{ stage_services('BGD') }}
