module formats-go

go 1.24
