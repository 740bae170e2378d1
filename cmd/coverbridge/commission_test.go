package main

import (
	"io"
	"testing"
)

func TestAgentCommissionSetting(t *testing.T) {
	cfg, err := parseConfig("serve", []string{"--agent-commission", "4.5%, my-sess=1/25,kr-ei=0.03"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.AgentCommission.String() != "4.5%" || len(cfg.AgentCommissionByScheme) != 2 ||
		cfg.AgentCommissionByScheme["my-sess"].String() != "4%" || cfg.AgentCommissionByScheme["kr-ei"].String() != "3%" {
		t.Errorf("commission = %v %v", cfg.AgentCommission, cfg.AgentCommissionByScheme)
	}
	if cfg, err := parseConfig("serve", nil, io.Discard); err != nil || cfg.AgentCommission.String() != "5%" {
		t.Errorf("default = %v, %v; want 5%%", cfg.AgentCommission, err)
	}
	for _, bad := range []string{"five", "5%,my-sess", "5%,=4%", "5%,my-sess=-1%"} {
		if _, err := parseConfig("serve", []string{"--agent-commission", bad}, io.Discard); err == nil {
			t.Errorf("--agent-commission %q accepted", bad)
		}
	}
}
