module runasstandarduser

go 1.22
