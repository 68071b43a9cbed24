{{ stage_concerns('UKR') }}
