// Command traderadmin-backend serves TraderAdmin's trading configuration over a REST API.
// See backend/README.md for flags, environment variables and endpoints.
package main

import (
	"os"

	"traderadmin/backend/internal/app"
)

func main() {
	os.Exit(app.Main(os.Args[1:], os.Stdout, os.Stderr))
}
