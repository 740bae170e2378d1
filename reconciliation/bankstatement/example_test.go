package bankstatement_test

import (
	"fmt"
	"os"

	"github.com/coverbridge/coverbridge/reconciliation/bankstatement"
)

func ExampleParseCamt() {
	f, _ := os.Open("testdata/camt053_v8.xml")
	defer f.Close()
	file, err := bankstatement.ParseCamt(f, bankstatement.Config{})
	if err != nil {
		fmt.Println(err)
		return
	}
	s := file.Statements[0]
	fmt.Println(file.Format, s.ID, s.Opening.Amount, "+", s.Credits, "-", s.Debits, "=", s.Closing.Amount, s.Currency)
	for _, r := range s.Receipts[1:4] {
		fmt.Println(r.EntryRef, r.Direction, r.Amount, r.CreditorRef, r.DebtorName)
	}
	// Output:
	// camt.053.001.08 MY-564210002211-2026-11-16 100000.00 + 17885.97 - 865.00 = 117020.97 MYR
	// NTRY-0002 CRDT 2000.00 RF83SOCS00000N2026100000 Kedai Runner Sdn Bhd
	// NTRY-0002 CRDT 1560.30 RF72SOCS00000V2026100000 Jom Hantar Sdn Bhd
	// NTRY-0002 CRDT 1000.00 RF14SOCS0000162026100001 Tukang Cepat Sdn Bhd
}
