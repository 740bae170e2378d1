package rfref_test

import (
	"fmt"

	"github.com/coverbridge/coverbridge/reconciliation/rfref"
)

func ExampleNew() {
	ref, _ := rfref.New("539007547034")
	fmt.Println(ref)
	fmt.Println(rfref.Format(ref))
	fmt.Println(rfref.Validate("rf18 5390 0754 7034"))
	// Output:
	// RF18539007547034
	// RF18 5390 0754 7034
	// <nil>
}

func ExampleGenerate() {
	ref, _ := rfref.Generate(rfref.Key{Platform: 42, Scheme: "SOCS", Period: "2026-10"})
	fmt.Println(rfref.Format(ref))
	k, _ := rfref.Parse(ref)
	fmt.Printf("%d %s %s %d\n", k.Platform, k.Scheme, k.Period, k.Seq)
	// Output:
	// RF41 SOCS 0000 1620 2610 0000
	// 42 SOCS 2026-10 0
}
