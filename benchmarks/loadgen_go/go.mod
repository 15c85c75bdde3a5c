module ticketblue/benchmarks/viewers

go 1.21
