module zcopy.example/go

go 1.19
