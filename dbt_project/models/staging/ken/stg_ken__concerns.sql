{{ stage_concerns('KEN') }}
