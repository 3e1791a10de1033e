// The oracle: a program of ours that answers as Flux's own code does
// (fluxcd/pkg/version, Masterminds/semver, Go regexp, text/template with
// Sprig's hermetic functions), for the property tests in tests/unit/oracle/.
module gitops-action/tools/oracle

go 1.25.0

require (
	github.com/Masterminds/semver/v3 v3.4.0
	github.com/Masterminds/sprig/v3 v3.3.0
	github.com/fluxcd/pkg/version v0.10.0
)

require (
	dario.cat/mergo v1.0.1 // indirect
	github.com/Masterminds/goutils v1.1.1 // indirect
	github.com/google/uuid v1.6.0 // indirect
	github.com/huandu/xstrings v1.5.0 // indirect
	github.com/mitchellh/copystructure v1.2.0 // indirect
	github.com/mitchellh/reflectwalk v1.0.2 // indirect
	github.com/shopspring/decimal v1.4.0 // indirect
	github.com/spf13/cast v1.7.0 // indirect
	golang.org/x/crypto v0.26.0 // indirect
)

tool gitops-action/tools/oracle/cmd/oracle
