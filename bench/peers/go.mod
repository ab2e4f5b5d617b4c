module zcopy.bench/peers

go 1.19
