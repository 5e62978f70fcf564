module hostile-go

go 1.24
