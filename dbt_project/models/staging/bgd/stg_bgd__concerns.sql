{{ stage_concerns('BGD') }}
