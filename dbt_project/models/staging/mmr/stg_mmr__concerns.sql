{{ stage_concerns('MMR') }}
