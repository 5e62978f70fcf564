module denied-packages

go 1.24
