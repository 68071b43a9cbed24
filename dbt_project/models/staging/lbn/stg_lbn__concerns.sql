{{ stage_concerns('LBN') }}
