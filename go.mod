module github.com/stratus-metrics/stratus

go 1.26.8
