// Package notice renders the letter compliance sends a platform about its
// open gaps: what each is, the amount at stake, the interest, and the RF
// payment references to pay with, as a PDF.
package notice

import (
	"bytes"
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/go-pdf/fpdf"

	"github.com/coverbridge/coverbridge/gateway"
)

// Letter is a notice to one platform.
type Letter struct {
	Number       int64
	Date         time.Time
	From         string // the sender; default "Coverbridge compliance"
	PlatformID   string
	PlatformName string
	Items        []Item
}

// Item is one gap of the letter.
type Item struct {
	GapID      int64
	Kind       string
	SchemeID   string
	Period     string
	Subject    string // a worker's reference or key, when the gap is one worker's
	Amount     gateway.Money
	Interest   gateway.Money
	References []string // RF payment references of the statements concerned
	Detail     string
}

// Options tunes rendering.
type Options struct {
	// Uncompressed leaves the page content readable in the file, for
	// tests and for archives that index text; default compressed.
	Uncompressed bool
}

// what a platform is asked to do about each kind of gap.
var kindText = map[string]string{
	"missing":               "Contributions not received",
	"underpaid":             "Contributions underpaid",
	"late":                  "Paid late: interest due",
	"advice_mismatch":       "Remittance advice disagrees with the statement",
	"unregistered_worker":   "Earnings of an unregistered worker",
	"silent_platform":       "No or far fewer earnings reported",
	"withheld_not_remitted": "Withheld from a worker, not remitted",
	"unmatched_receipt":     "Payment not identified",
}

var askText = []struct{ kind, text string }{
	{"missing", "Pay what is open, with the interest, using the payment reference of the statement."},
	{"underpaid", "Pay what is open, with the interest, using the payment reference of the statement."},
	{"withheld_not_remitted", "Contributions withheld from workers must be remitted: the workers' cover is at risk until they are."},
	{"late", "Pay the interest on the late payment using the payment reference of the statement."},
	{"advice_mismatch", "Send a corrected remittance advice that names each worker's amount as stated."},
	{"unregistered_worker", "Register the workers named, or tell us why their earnings are not theirs to insure."},
	{"silent_platform", "Report the earnings of the period, or tell us why there were none."},
}

// Render writes the letter as a PDF.
func Render(w io.Writer, l *Letter, opt Options) error {
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.SetCompression(!opt.Uncompressed)
	pdf.SetTitle(fmt.Sprintf("Notice %d to %s", l.Number, l.PlatformID), true)
	pdf.SetCreator("Coverbridge", true)
	pdf.SetCreationDate(l.Date)
	pdf.SetModificationDate(l.Date)
	tr := pdf.UnicodeTranslatorFromDescriptor("")
	pdf.SetMargins(18, 18, 18)
	pdf.SetAutoPageBreak(true, 18)
	pdf.AliasNbPages("")
	pdf.SetFooterFunc(func() {
		pdf.SetY(-12)
		pdf.SetFont("Helvetica", "", 8)
		pdf.CellFormat(0, 5, tr(fmt.Sprintf("Notice %d, page %d of {nb}", l.Number, pdf.PageNo())), "", 0, "C", false, 0, "")
	})
	pdf.AddPage()

	pdf.SetFont("Helvetica", "B", 14)
	pdf.CellFormat(0, 8, tr(cmp.Or(l.From, "Coverbridge compliance")), "", 1, "L", false, 0, "")
	pdf.SetFont("Helvetica", "", 10)
	pdf.CellFormat(0, 6, tr(fmt.Sprintf("Notice %d of %s", l.Number, l.Date.UTC().Format("2 January 2006"))), "", 1, "L", false, 0, "")
	pdf.Ln(4)
	pdf.SetFont("Helvetica", "B", 11)
	pdf.CellFormat(0, 6, tr("To: "+cmp.Or(l.PlatformName, l.PlatformID)+" ("+l.PlatformID+")"), "", 1, "L", false, 0, "")
	pdf.Ln(2)
	pdf.SetFont("Helvetica", "", 10)
	pdf.MultiCell(0, 5, tr(fmt.Sprintf("Our records show %d open finding(s) about your contributions, listed below with the amount at stake "+
		"and the interest owed. Please settle them, or explain why they are wrong, within 14 days of this notice.", len(l.Items))), "", "L", false)
	pdf.Ln(3)

	// The table of findings.
	cols := []struct {
		head  string
		width float64
		align string
	}{{"Gap", 12, "R"}, {"Finding", 52, "L"}, {"Scheme", 22, "L"}, {"Period", 16, "L"}, {"Worker", 26, "L"}, {"Amount", 23, "R"}, {"Interest", 23, "R"}}
	header := func() {
		pdf.SetFont("Helvetica", "B", 8)
		pdf.SetFillColor(230, 230, 230)
		for _, c := range cols {
			pdf.CellFormat(c.width, 6, c.head, "1", 0, c.align, true, 0, "")
		}
		pdf.Ln(-1)
		pdf.SetFont("Helvetica", "", 8)
	}
	header()
	_, pageHeight := pdf.GetPageSize()
	totals := map[gateway.Currency]*[2]int64{}
	var currencies []gateway.Currency
	for _, it := range l.Items {
		if pdf.GetY()+5.5 > pageHeight-20 { // the table goes on over the page, under its header
			pdf.AddPage()
			header()
		}
		vals := []string{fmt.Sprint(it.GapID), cmp.Or(kindText[it.Kind], it.Kind), it.SchemeID, it.Period, shorten(it.Subject, 16),
			money(it.Amount), money(it.Interest)}
		for i, c := range cols {
			pdf.CellFormat(c.width, 5.5, tr(vals[i]), "1", 0, c.align, false, 0, "")
		}
		pdf.Ln(-1)
		cur := cmp.Or(it.Amount.Currency, it.Interest.Currency)
		t, ok := totals[cur]
		if !ok {
			t = &[2]int64{}
			totals[cur] = t
			currencies = append(currencies, cur)
		}
		t[0] += it.Amount.Amount
		t[1] += it.Interest.Amount
	}
	pdf.SetFont("Helvetica", "B", 8)
	for _, cur := range currencies {
		t := totals[cur]
		pdf.CellFormat(128, 5.5, tr("Total "+string(cur)), "1", 0, "R", false, 0, "")
		pdf.CellFormat(23, 5.5, money(gateway.Money{Amount: t[0], Currency: cur}), "1", 0, "R", false, 0, "")
		pdf.CellFormat(23, 5.5, money(gateway.Money{Amount: t[1], Currency: cur}), "1", 1, "R", false, 0, "")
	}
	pdf.Ln(4)

	// Payment references.
	refs := references(l.Items)
	if len(refs) > 0 {
		pdf.SetFont("Helvetica", "B", 10)
		pdf.CellFormat(0, 6, "Payment references to use", "", 1, "L", false, 0, "")
		pdf.SetFont("Helvetica", "", 9)
		pdf.MultiCell(0, 5, tr("Quote the reference of each statement as the structured creditor reference of the payment, "+
			"so that the payment is matched to the statement:"), "", "L", false)
		for _, r := range refs {
			pdf.SetFont("Courier", "B", 10)
			pdf.CellFormat(70, 5.5, r.ref, "", 0, "L", false, 0, "")
			pdf.SetFont("Helvetica", "", 9)
			pdf.CellFormat(0, 5.5, tr(r.what), "", 1, "L", false, 0, "")
		}
		pdf.Ln(3)
	}

	// What to do.
	pdf.SetFont("Helvetica", "B", 10)
	pdf.CellFormat(0, 6, "What we ask", "", 1, "L", false, 0, "")
	pdf.SetFont("Helvetica", "", 9)
	for _, a := range askText {
		if slices.ContainsFunc(l.Items, func(it Item) bool { return it.Kind == a.kind }) {
			pdf.MultiCell(0, 5, tr("- "+a.text), "", "L", false)
		}
	}
	pdf.Ln(2)
	details := false
	for _, it := range l.Items {
		if it.Detail == "" {
			continue
		}
		if !details {
			pdf.SetFont("Helvetica", "B", 10)
			pdf.CellFormat(0, 6, "Details", "", 1, "L", false, 0, "")
			pdf.SetFont("Helvetica", "", 8)
			details = true
		}
		pdf.MultiCell(0, 4.5, tr(fmt.Sprintf("Gap %d: %s", it.GapID, it.Detail)), "", "L", false)
	}
	var buf bytes.Buffer
	if err := pdf.Output(&buf); err != nil {
		return fmt.Errorf("render notice %d: %w", l.Number, err)
	}
	_, err := w.Write(buf.Bytes())
	return err
}

type reference struct{ ref, what string }

// references lists each payment reference once, with what it pays.
func references(items []Item) []reference {
	seen := map[string]int{}
	var out []reference
	for _, it := range items {
		for _, r := range it.References {
			what := it.SchemeID + " " + it.Period
			if i, ok := seen[r]; ok {
				if !strings.Contains(out[i].what, what) {
					out[i].what += ", " + what
				}
				continue
			}
			seen[r] = len(out)
			out = append(out, reference{ref: r, what: what})
		}
	}
	return out
}

func money(m gateway.Money) string {
	if m.Currency == "" {
		return "-"
	}
	return string(m.Currency) + " " + m.String()
}

func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
