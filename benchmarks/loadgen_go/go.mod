module ticketblue/benchmarks/loadgen

go 1.21
