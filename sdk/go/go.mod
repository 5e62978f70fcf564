module gohook.example/sdk

go 1.24
