module PLUGIN_MODULE

go 1.24
