#!/usr/bin/env python3
"""Generates demo/records.jsonl: a small, fictional, deterministic data set for Consentry demos and tests.

Four made-up small enterprises (one in Hangzhou, Zhejiang, kept for the signed spec examples; three
in Jiangsu: Nanjing, Suzhou and Xuzhou), every category of spec/catalog.json for each of them,
monthly flow records for 2024-01 .. 2026-10 and event / status-check records for everything else.
Standard library only; the output depends on nothing but this file (seeded RNG, no clock, no
environment), so running it twice gives the same bytes.

    python3 demo/make_records.py            # writes demo/records.jsonl next to this script
    python3 demo/make_records.py -o FILE    # somewhere else ('-' for stdout)

See demo/README.md for what the fields mean.
"""

from __future__ import annotations

import argparse
import calendar
import datetime as dt
import json
import random
import sys
from pathlib import Path

SEED = "consentry-demo-2026-11"  # change it and every number changes; nothing else does

# --------------------------------------------------------------------------------------------------
# Unified Social Credit Codes (GB 32100-2015) and organization codes (GB 11714-1997)

USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # no I, O, S, V, Z


def org_check(body8: str) -> str:
    """GB 11714-1997 check character of an 8-character organization-code body."""
    weights = (3, 7, 9, 10, 5, 8, 4, 2)
    total = 0
    for ch, w in zip(body8, weights):
        total += (int(ch) if ch.isdigit() else ord(ch) - ord("A") + 10) * w
    c = 11 - total % 11
    return "X" if c == 10 else "0" if c == 11 else str(c)


def uscc_check(first17: str) -> str:
    """GB 32100-2015 check character over the first 17 characters (weights 3^(i-1) mod 31)."""
    total = sum(USCC_CHARSET.index(ch) * pow(3, i, 31) for i, ch in enumerate(first17))
    return USCC_CHARSET[(31 - total % 31) % 31]


def uscc_valid(code: str) -> bool:
    return (
        len(code) == 18
        and all(ch in USCC_CHARSET for ch in code)
        and code[2:8].isdigit()
        and code[16] == org_check(code[8:16])
        and code[17] == uscc_check(code[:17])
    )


def uscc_complete(first16: str) -> str:
    """Appends both check characters to authority + category + division + 8-character body."""
    first17 = first16 + org_check(first16[8:16])
    return first17 + uscc_check(first17)


# E1 is the code given by the project: a published code that belongs to a real organization in
# Hangzhou; spec/examples (signed grants) and the README walk-through use it with the made-up name
# 杭州示例科技有限公司, so it stays, although the node counts it outside Jiangsu. E2..E4 are Jiangsu
# enterprises (positions 3-8 are divisions of spec/regions/jiangsu.json, so the node maps them to
# 南京市, 苏州市 and 徐州市), made with uscc_complete() from invented organization-code bodies.
E1_USCC = "91330100716105852F"
E2_USCC = uscc_complete("91320115MA1R3C4D")  # 南京市江宁区
E3_USCC = uscc_complete("91320506MA1TUR4B")  # 苏州市吴中区
E4_USCC = uscc_complete("91320312MA1JB7Q6")  # 徐州市铜山区
assert E2_USCC == "91320115MA1R3C4D45", E2_USCC
assert E3_USCC == "91320506MA1TUR4B8D", E3_USCC
assert E4_USCC == "91320312MA1JB7Q6XK", E4_USCC  # organization check character 'X' (value 10)
for _code in (E1_USCC, E2_USCC, E3_USCC, E4_USCC):
    assert uscc_valid(_code), _code
    assert uscc_complete(_code[:16]) == _code, _code
# The checks must actually catch things: a changed character or a lower-case letter is refused.
assert not uscc_valid("91330100716105852E")
assert not uscc_valid("91330100716105853F")
assert not uscc_valid("91320115ma1r3c4d45")
assert org_check("D2143569") == "X"  # the GB 11714 worked example


def cn_patent_check(app12: str) -> str:
    """Check digit of a Chinese patent application number (12 digits; weights 2..9,2..5; mod 11)."""
    weights = (2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5)
    c = sum(int(d) * w for d, w in zip(app12, weights)) % 11
    return "X" if c == 10 else str(c)


def patent_number(year: int, kind: int, serial: int) -> str:
    """ZL + year + kind (1 invention, 2 utility model, 3 design) + 7-digit serial + '.' + check."""
    app = f"{year}{kind}{serial:07d}"
    return f"ZL{app}.{cn_patent_check(app)}"


# --------------------------------------------------------------------------------------------------
# Calendar

MONTHS = [(y, m) for y in (2024, 2025, 2026) for m in range(1, 13) if (y, m) <= (2026, 10)]
CHECK_DATES = ("2024-12-31", "2025-12-31", "2026-10-31")  # status checks: two year-ends and the cut-off


def month_end(y: int, m: int) -> str:
    return f"{y:04d}-{m:02d}-{calendar.monthrange(y, m)[1]:02d}"


def ym(y: int, m: int) -> str:
    return f"{y:04d}-{m:02d}"


def money(x: float) -> float:
    """Yuan, two decimals; never -0.0."""
    v = round(x + 0.0, 2)
    return 0.0 if v == 0 else v


def rng(*parts: object) -> random.Random:
    """One independent, deterministic stream per (enterprise, category, …): str seeds are hashed with
    SHA-512 by random.seed, so the stream does not depend on PYTHONHASHSEED or the platform."""
    return random.Random("/".join([SEED, *map(str, parts)]))


# --------------------------------------------------------------------------------------------------
# The enterprises (all fictional; addresses, people, counterparties and numbers are invented)

ENTERPRISES = [
    {
        "key": "E1",
        "uscc": E1_USCC,
        "name": "杭州示例科技有限公司",
        "city": "杭州",
        "division": "330100",
        "authority": "杭州市市场监督管理局",
        "taxAuthority": "国家税务总局杭州市西湖区税务局",
        "court": ("杭州市西湖区人民法院", "浙0106"),
        "address": "浙江省杭州市西湖区文三路 518 号 8 楼 806 室",
        "established": "2016-03-18",
        "legalRep": "陈卓远",
        "type": "有限责任公司(自然人投资或控股)",
        "scope": "软件开发;信息系统集成服务;信息技术咨询服务;数据处理服务",
        "capital0": 1_000_000,
        "industry": "software",
        # monthly model
        "sales0": 620_000, "growth": 0.12, "season": "services", "exportShare": 0.0,
        "vatRate": 0.04, "margin": 0.13, "iitPerHead": 310, "propertyTax": 0,
        "staff0": 24, "staffPath": (0.25, 0.25, 0.25), "wageBase": 9_800, "hpfRate": 0.12, "hpfShare": 1.0,
        "water": 55, "waterPrice": 5.9, "power": 9_500, "powerPrice": 0.82, "gas": 110, "gasPrice": 3.95,
        "importMonths": 4, "importValue": (30_000, 180_000), "exportDecl": (0, 0),
    },
    {
        "key": "E2",
        "uscc": E2_USCC,
        "name": "南京雨茗食品有限公司",
        "city": "南京",
        "division": "320115",
        "authority": "南京市江宁区市场监督管理局",
        "taxAuthority": "国家税务总局南京市江宁区税务局",
        "court": ("南京市江宁区人民法院", "苏0115"),
        "address": "江苏省南京市江宁区秣陵街道雨茗路 66 号 2 幢",
        "established": "2018-06-08",
        "legalRep": "沈建明",
        "type": "有限责任公司(自然人投资或控股)",
        "scope": "食品生产;食品销售;茶叶制品生产;农副产品销售",
        "capital0": 2_000_000,
        "industry": "food",
        "sales0": 1_100_000, "growth": 0.07, "season": "festival", "exportShare": 0.08,
        "vatRate": 0.025, "margin": 0.08, "iitPerHead": 35, "propertyTax": 9_200,
        "staff0": 38, "staffPath": (0.2, 0.2, 0.2), "wageBase": 5_200, "hpfRate": 0.05, "hpfShare": 0.6,
        "water": 420, "waterPrice": 5.9, "power": 32_000, "powerPrice": 0.68, "gas": 3_100, "gasPrice": 3.95,
        "importMonths": 0, "importValue": (0, 0), "exportDecl": (1, 4),
    },
    {
        "key": "E3",
        "uscc": E3_USCC,
        "name": "苏州泓帆进出口有限公司",
        "city": "苏州",
        "division": "320506",
        "authority": "苏州市吴中区市场监督管理局",
        "taxAuthority": "国家税务总局苏州市吴中区税务局",
        "court": ("苏州市吴中区人民法院", "苏0506"),
        "address": "江苏省苏州市吴中区木渎镇泓浪路 27 号 3 楼",
        "established": "2019-11-21",
        "legalRep": "傅海波",
        "type": "有限责任公司(自然人投资或控股)",
        "scope": "货物进出口;日用百货销售;厨具卫具及日用杂品批发;第二类医疗器械销售",
        "capital0": 1_000_000,
        "industry": "trade",
        "sales0": 4_000_000, "growth": 0.06, "season": "export", "exportShare": 0.92,
        "vatRate": 0.013, "margin": 0.04, "iitPerHead": 120, "propertyTax": 0,
        "staff0": 11, "staffPath": (0.08, 0.08, 0.08), "wageBase": 6_500, "hpfRate": 0.08, "hpfShare": 1.0,
        "water": 32, "waterPrice": 5.6, "power": 4_600, "powerPrice": 0.82, "gas": 45, "gasPrice": 4.1,
        "importMonths": 3, "importValue": (20_000, 90_000), "exportDecl": (8, 25),
    },
    {
        "key": "E4",
        "uscc": E4_USCC,
        "name": "徐州彭捷鞋业有限公司",
        "city": "徐州",
        "division": "320312",
        "authority": "徐州市铜山区市场监督管理局",
        "taxAuthority": "国家税务总局徐州市铜山区税务局",
        "court": ("徐州市铜山区人民法院", "苏0312"),
        "address": "江苏省徐州市铜山区张集镇彭捷路 9 号",
        "established": "2020-07-15",
        "legalRep": "郑立强",
        "type": "有限责任公司(自然人投资或控股)",
        "scope": "鞋制造;鞋帽批发;皮革制品制造;货物进出口",
        "capital0": 5_000_000,
        "industry": "shoes",
        "sales0": 2_400_000, "growth": -0.14, "season": "shoes", "exportShare": 0.4,
        "vatRate": 0.03, "margin": 0.03, "iitPerHead": 12, "propertyTax": 22_600,
        "staff0": 68, "staffPath": (-0.3, -1.0, -0.4), "wageBase": 4_800, "hpfRate": 0.05, "hpfShare": 0.35,
        "water": 780, "waterPrice": 6.1, "power": 68_000, "powerPrice": 0.68, "gas": 2_300, "gasPrice": 4.3,
        "importMonths": 2, "importValue": (40_000, 160_000), "exportDecl": (3, 8),
    },
]
BY_KEY = {e["key"]: e for e in ENTERPRISES}

SEASONS = {
    # month -> factor on sales; flow-like records follow the business cycle
    "services": {1: 0.95, 2: 0.7, 3: 1.0, 4: 1.0, 5: 1.0, 6: 1.1, 7: 0.95, 8: 0.95, 9: 1.05, 10: 0.9, 11: 1.05, 12: 1.35},
    "festival": {1: 1.55, 2: 0.65, 3: 0.8, 4: 0.85, 5: 0.9, 6: 0.9, 7: 0.85, 8: 1.3, 9: 1.75, 10: 0.95, 11: 0.9, 12: 1.1},
    "export": {1: 1.05, 2: 0.5, 3: 0.9, 4: 0.95, 5: 1.0, 6: 1.0, 7: 1.2, 8: 1.3, 9: 1.35, 10: 1.2, 11: 0.95, 12: 0.85},
    "shoes": {1: 1.0, 2: 0.55, 3: 1.05, 4: 1.1, 5: 1.0, 6: 0.9, 7: 0.85, 8: 1.0, 9: 1.15, 10: 1.2, 11: 1.1, 12: 1.05},
}


def sales_factor(e: dict, y: int, m: int) -> float:
    t = (y - 2024) + (m - 1) / 12
    return (1 + e["growth"]) ** t * SEASONS[e["season"]][m]


# E4's bad year: which months go unpaid, and when it catches up (the "one enterprise with negatives").
E4_TAX_SHORT = {ym(2025, m): f for m, f in zip(range(4, 10), (0.7, 0.55, 0.5, 0.45, 0.5, 0.6))}
E4_TAX_REPAY = {ym(2025, 11): 0.5, ym(2025, 12): 1.0}  # share of the outstanding balance repaid
E4_SOC_SHORT = {ym(2025, m): f for m, f in zip(range(6, 12), (0.7, 0.6, 0.6, 0.5, 0.55, 0.6))}
E4_SOC_REPAY = {ym(2026, 1): 0.5, ym(2026, 2): 1.0}
E4_HPF_SHORT = {ym(2025, m): 0.0 for m in range(7, 13)}
E4_HPF_REPAY = {ym(2026, 2): 1.0}
E4_UTL_SHORT = {"UTL-02": {ym(2025, 8): 0.0, ym(2025, 9): 0.0}, "UTL-01": {ym(2025, 9): 0.0}}
E4_UTL_REPAY = {"UTL-02": {ym(2025, 10): 1.0}, "UTL-01": {ym(2025, 10): 1.0}}


# --------------------------------------------------------------------------------------------------
# Monthly flows (TAX-03, TAX-06, SOC-01, SOC-02, HPF-01, UTL-01/02/03, CUS-02)


def simulate(e: dict) -> dict:
    """Every monthly series of one enterprise, consistent across categories (sales drive invoices,
    tax and customs; headcount drives social insurance, housing fund and IIT)."""
    k = e["key"]
    out: dict[str, list[tuple[str, dict]]] = {c: [] for c in (
        "TAX-03", "TAX-06", "SOC-01", "SOC-02", "HPF-01", "UTL-01", "UTL-02", "UTL-03", "CUS-02")}
    r_sales, r_tax, r_inv = rng(k, "sales"), rng(k, "TAX-03"), rng(k, "TAX-06")
    r_soc, r_hpf, r_utl, r_cus = rng(k, "SOC"), rng(k, "HPF-01"), rng(k, "UTL"), rng(k, "CUS-02")
    staff = e["staff0"]
    tax_balance = soc_balance = hpf_balance = 0.0
    utl_balance = {"UTL-01": 0.0, "UTL-02": 0.0, "UTL-03": 0.0}
    quarter_sales = 0.0
    import_months = set()
    for y in (2024, 2025, 2026):
        months = [m for (yy, m) in MONTHS if yy == y]
        import_months |= {(y, m) for m in r_cus.sample(months, min(e["importMonths"], len(months)))}
    annual: dict[int, dict] = {}
    for (y, m) in MONTHS:
        p, date = ym(y, m), month_end(y, m)
        a = annual.setdefault(y, {"sales": 0.0, "taxPaid": 0.0, "profit": 0.0, "staff": 0})
        # -- sales and tax (TAX-03) ----------------------------------------------------------------
        sales = e["sales0"] * sales_factor(e, y, m) * r_sales.uniform(0.88, 1.12)
        export = sales * e["exportShare"] * r_sales.uniform(0.85, 1.15) if e["exportShare"] else 0.0
        domestic = sales - export
        vat = domestic * e["vatRate"] * r_tax.uniform(0.85, 1.15)
        quarter_sales += sales
        margin = e["margin"]
        if k == "E4" and y >= 2025:
            margin = -0.02 if y == 2025 else 0.005  # a loss-making 2025, a thin 2026
        profit = sales * margin * r_tax.uniform(0.8, 1.2)
        cit = 0.0
        if m in (3, 6, 9, 12):  # quarterly prepayment; small low-profit enterprise: 5 % effective
            cit = max(0.0, quarter_sales * margin) * 0.05
            quarter_sales = 0.0
        if m == 5 and y in (2024, 2025) and margin > 0:  # annual settlement, a small top-up
            cit += e["sales0"] * 12 * margin * 0.05 * r_tax.uniform(0.02, 0.08)
        surtax = vat * 0.06  # 12 % of VAT, halved for small enterprises ("六税两费" relief)
        iit = staff * e["iitPerHead"] * r_tax.uniform(0.85, 1.15) * (1.6 if m == 1 else 1.0)  # bonuses
        other = sales * 0.0003 + (e["propertyTax"] if m in (4, 10) else 0.0)  # stamp duty; property & land tax
        payable = vat + cit + surtax + iit + other
        paid = payable * (E4_TAX_SHORT.get(p, 1.0) if k == "E4" else 1.0)
        tax_balance += payable - paid
        repaid = 0.0
        if k == "E4" and p in E4_TAX_REPAY:
            repaid = tax_balance * E4_TAX_REPAY[p]
            tax_balance -= repaid
        refund = export * 0.1 * r_tax.uniform(0.9, 1.1) if export else 0.0
        out["TAX-03"].append((date, {
            "taxPeriod": p,
            "declaredSales": money(sales),
            "exportSales": money(export),
            "vatPayable": money(vat),
            "citPayable": money(cit),
            "surtaxPayable": money(surtax),
            "iitWithheld": money(iit),
            "otherTaxPayable": money(other),
            "taxPayable": money(payable),
            "taxPaid": money(paid),
            "arrearsRepaid": money(repaid),
            "exportRefund": money(refund),
            "status": "paid" if paid >= payable - 0.005 else "partiallyPaid",
        }))
        a["sales"] += sales
        a["taxPaid"] += paid + repaid
        a["profit"] += profit
        a.setdefault("balances", {})[m] = tax_balance
        # -- invoices (TAX-06) ---------------------------------------------------------------------
        per_invoice = {"software": 15_000, "food": 3_200, "trade": 160_000, "shoes": 18_000}[e["industry"]]
        amount = sales * r_inv.uniform(0.96, 1.01)
        issued = max(1, round(amount / per_invoice * r_inv.uniform(0.8, 1.2)))
        out_rate = {"software": 0.06, "food": 0.13, "trade": 0.13, "shoes": 0.13}[e["industry"]]
        bought = sales * {"software": 0.35, "food": 0.62, "trade": 0.9, "shoes": 0.7}[e["industry"]]
        out["TAX-06"].append((date, {
            "invoicePeriod": p,
            "invoicesIssued": issued,
            "invoiceAmount": money(amount),
            "invoiceTax": money((amount - export) * out_rate),
            "redInvoices": r_inv.choice((0, 0, 0, 0, 1, 1, 2)),
            "invoicesReceived": max(1, round(bought / (per_invoice * 0.8) * r_inv.uniform(0.8, 1.2))),
            "receivedAmount": money(bought * r_inv.uniform(0.9, 1.1)),
        }))
        # -- social insurance enrolment (SOC-01) ---------------------------------------------------
        # headcount follows a planned path (staffPath: change per month, by year) plus ordinary churn
        t = (y - 2024) * 12 + m
        target = e["staff0"] + sum(e["staffPath"][yy - 2024] for (yy, mm) in MONTHS[:t])
        churn = r_soc.choice((0, 0, 0, 1, 1, 2)) + (r_soc.randint(0, 2) if m == 2 else 0)  # moves after the Spring Festival
        gap = round(target - staff)
        joined, left = churn + max(gap, 0), churn + max(-gap, 0)
        staff = staff + joined - left
        a["staff"] = staff
        out["SOC-01"].append((date, {
            "insured": staff,
            "newlyInsured": joined,
            "leftInsured": left,
            "status": "normal",
        }))
        # -- social insurance contributions (SOC-02; collected by the tax bureau) -----------------
        base = staff * e["wageBase"] * (1.04 ** (y - 2024)) * r_soc.uniform(0.97, 1.03)
        employer, employee = base * 0.264, base * 0.105
        due = employer + employee
        soc_paid = due * (E4_SOC_SHORT.get(p, 1.0) if k == "E4" else 1.0)
        soc_balance += due - soc_paid
        soc_repaid = 0.0
        if k == "E4" and p in E4_SOC_REPAY:
            soc_repaid = soc_balance * E4_SOC_REPAY[p]
            soc_balance -= soc_repaid
        out["SOC-02"].append((date, {
            "contributionPeriod": p,
            "contributionBase": money(base),
            "employerContribution": money(employer),
            "employeeContribution": money(employee),
            "amountDue": money(due),
            "amountPaid": money(soc_paid),
            "arrearsRepaid": money(soc_repaid),
            "arrearsBalance": money(soc_balance),
            "status": "inArrears" if soc_balance > 0.005 else "paid",
        }))
        # -- housing provident fund (HPF-01) -------------------------------------------------------
        depositors = max(1, round(staff * e["hpfShare"]))
        hbase = depositors * e["wageBase"] * (1.04 ** (y - 2024)) * r_hpf.uniform(0.98, 1.02)
        deposit = hbase * e["hpfRate"] * 2  # employer + employee share at the same rate
        hpf_paid = deposit * (E4_HPF_SHORT.get(p, 1.0) if k == "E4" else 1.0)
        hpf_balance += deposit - hpf_paid
        hpf_repaid = 0.0
        if k == "E4" and p in E4_HPF_REPAY:
            hpf_repaid = hpf_balance * E4_HPF_REPAY[p]
            hpf_balance -= hpf_repaid
        out["HPF-01"].append((date, {
            "depositPeriod": p,
            "depositors": depositors,
            "depositBase": money(hbase),
            "depositRate": e["hpfRate"],
            "depositAmount": money(deposit),
            "amountPaid": money(hpf_paid),
            "arrearsRepaid": money(hpf_repaid),
            "arrearsBalance": money(hpf_balance),
            "status": "inArrears" if hpf_balance > 0.005 else "normal",
        }))
        # -- utilities (UTL-01 water, UTL-02 electricity, UTL-03 gas) ------------------------------
        summer = m in (7, 8)
        winter = m in (1, 2, 12)
        activity = sales_factor(e, y, m) ** 0.5
        for cat, use_key, price_key, unit_field, weather in (
            ("UTL-01", "water", "waterPrice", "waterUsageM3", 1.15 if summer else 1.0),
            ("UTL-02", "power", "powerPrice", "electricityKwh", 1.35 if summer else 1.1 if winter else 1.0),
            ("UTL-03", "gas", "gasPrice", "gasUsageM3", 1.25 if winter else 1.0),
        ):
            used = round(e[use_key] * activity * weather * r_utl.uniform(0.9, 1.1))
            bill = used * e[price_key]
            share = E4_UTL_SHORT.get(cat, {}).get(p, 1.0) if k == "E4" else 1.0
            paid_u = bill * share
            utl_balance[cat] += bill - paid_u
            if k == "E4" and p in E4_UTL_REPAY.get(cat, {}):
                paid_u += utl_balance[cat]
                utl_balance[cat] = 0.0
            out[cat].append((date, {
                "billingPeriod": p,
                unit_field: used,
                "billAmount": money(bill),
                "amountPaid": money(paid_u),
                "overdueBalance": money(utl_balance[cat]),
                "status": "overdue" if utl_balance[cat] > 0.005 else "paid",
            }))
        # -- customs declarations (CUS-02) ---------------------------------------------------------
        lo, hi = e["exportDecl"]
        exp_n = r_cus.randint(lo, hi) if hi else 0
        imp = (y, m) in import_months
        out["CUS-02"].append((date, {
            "declarationPeriod": p,
            "exportDeclarations": exp_n,
            "exportValue": money(export * r_cus.uniform(0.97, 1.03)) if exp_n else 0.0,
            "importDeclarations": r_cus.randint(1, 3) if imp else 0,
            "importValue": money(r_cus.uniform(*e["importValue"])) if imp else 0.0,
        }))
    return {"monthly": out, "annual": annual}


# --------------------------------------------------------------------------------------------------
# Events and status checks


def check(status: str, scope: str) -> dict:
    """A status check: the provider's answer "nothing on record" (or the state) as of the record date."""
    return {"status": status, "checkScope": scope}


def events(e: dict, sim: dict) -> dict[str, list[tuple[str, dict]]]:
    k, name, u = e["key"], e["name"], e["uscc"]
    court, court_code = e["court"]
    annual = sim["annual"]
    ev: dict[str, list[tuple[str, dict]]] = {}

    def add(cat: str, date: str, fields: dict) -> None:
        ev.setdefault(cat, []).append((date, fields))

    def checks(cat: str, status: str, scope: str, dates=CHECK_DATES) -> None:
        for d in dates:
            add(cat, d, check(status, scope))

    # ---- REG-01 registration basics: establishment and each change, full state after it ----------
    base = {
        "name": name,
        "legalRepresentative": e["legalRep"],
        "enterpriseType": e["type"],
        "registeredCapital": e["capital0"],
        "establishedOn": e["established"],
        "address": e["address"],
        "businessScope": e["scope"],
        "registrationAuthority": e["authority"],
    }
    add("REG-01", e["established"], {**base, "changeType": "establishment", "changedItems": "设立登记", "status": "active"})
    if k == "E1":
        add("REG-01", "2024-09-12", {**base, "registeredCapital": 3_000_000, "changeType": "change",
                                     "changedItems": "注册资本(100 万元→300 万元)", "status": "active"})
        add("REG-01", "2025-11-05", {**base, "registeredCapital": 3_000_000,
                                     "address": "浙江省杭州市西湖区三墩镇西园路 18 号 5 幢 601 室",
                                     "changeType": "change", "changedItems": "住所", "status": "active"})
    elif k == "E2":
        add("REG-01", "2025-04-15", {**base, "businessScope": base["businessScope"] + ";食品互联网销售",
                                     "changeType": "change", "changedItems": "经营范围", "status": "active"})
    elif k == "E3":
        add("REG-01", "2024-06-03", {**base, "address": "江苏省苏州市吴中区木渎镇泓浪路 27 号 5 楼",
                                     "changeType": "change", "changedItems": "住所", "status": "active"})
    else:
        add("REG-01", "2024-03-21", {**base, "businessScope": base["businessScope"] + ";劳动保护用品生产",
                                     "changeType": "change", "changedItems": "经营范围", "status": "active"})

    # ---- REG-02 shareholders: subscription and paid-in events (amounts are the event's) ----------
    holders = {
        "E1": [("陈卓远", 0.6), ("林晓雯", 0.4)],
        "E2": [("沈建明", 0.7), ("沈露", 0.3)],
        "E3": [("傅海波", 0.8), ("应雪琴", 0.2)],
        "E4": [("郑立强", 0.65), ("潘秀芬", 0.35)],
    }[k]

    def shareholding(date: str, event: str, amount_field: str, total: float, deadline: str | None = None) -> None:
        for who, share in holders:
            f = {"shareholderName": who, "shareholderType": "naturalPerson", "eventType": event,
                 amount_field: money(total * share), "contributionMethod": "货币",
                 "shareRatio": f"{round(share * 100)}%"}
            if deadline:
                f["subscriptionDeadline"] = deadline
            add("REG-02", date, f)

    if k == "E1":
        shareholding("2016-03-18", "subscription", "subscribedAmount", 1_000_000, "2026-03-17")
        shareholding("2016-05-10", "paidIn", "paidInAmount", 1_000_000)
        shareholding("2024-09-12", "subscription", "subscribedAmount", 2_000_000, "2029-09-11")
        shareholding("2025-06-30", "paidIn", "paidInAmount", 2_000_000)
    elif k == "E2":
        shareholding("2018-06-08", "subscription", "subscribedAmount", 2_000_000, "2038-06-07")
        shareholding("2019-03-12", "paidIn", "paidInAmount", 800_000)
        shareholding("2025-12-16", "paidIn", "paidInAmount", 1_200_000)  # 2024 Company Law: paid up early
    elif k == "E3":
        shareholding("2019-11-21", "subscription", "subscribedAmount", 1_000_000, "2039-11-20")
        shareholding("2020-01-15", "paidIn", "paidInAmount", 500_000)
        shareholding("2025-03-27", "paidIn", "paidInAmount", 500_000)
    else:
        shareholding("2020-07-15", "subscription", "subscribedAmount", 5_000_000, "2040-07-14")
        shareholding("2020-10-09", "paidIn", "paidInAmount", 2_000_000)
        # 2024 Company Law: the subscription deadline is shortened to the five-year limit; nothing paid
        for who, share in holders:
            add("REG-02", "2026-05-28", {"shareholderName": who, "shareholderType": "naturalPerson",
                                         "eventType": "deadlineChange", "contributionMethod": "货币",
                                         "shareRatio": f"{round(share * 100)}%", "subscriptionDeadline": "2031-06-30"})

    # ---- REG-03 annual reports (public part), filed by 30 June of the next year ------------------
    filed = {"E1": ("2024-04-18", "2025-04-22", "2026-04-20"), "E2": ("2024-05-28", "2025-06-11", "2026-05-26"),
             "E3": ("2024-03-29", "2025-03-31", "2026-03-30"), "E4": ("2024-06-20", "2025-09-05", "2026-06-12")}[k]
    r = rng(k, "REG-03")
    back = 1 / (1 + e["growth"]) * r.uniform(0.97, 1.03)  # 2023, before the monthly data starts
    figures = {
        2023: (e["staff0"], annual[2024]["sales"] * back, annual[2024]["sales"] * back * e["margin"] * r.uniform(0.8, 1.1),
               annual[2024]["taxPaid"] * back * r.uniform(0.95, 1.05)),
        2024: (annual[2024]["staff"], annual[2024]["sales"], annual[2024]["profit"], annual[2024]["taxPaid"]),
        2025: (annual[2025]["staff"], annual[2025]["sales"], annual[2025]["profit"], annual[2025]["taxPaid"]),
    }
    for (year, (staff, revenue, profit, taxes)), date in zip(figures.items(), filed):
        assets = revenue * {"software": 0.9, "food": 0.75, "trade": 0.22, "shoes": 0.85}[e["industry"]]
        add("REG-03", date, {
            "reportYear": str(year),
            "employees": staff,
            "revenue": money(revenue),
            "netProfit": money(profit),
            "totalTaxPaid": money(taxes),
            "totalAssets": money(assets * r.uniform(0.95, 1.05)),
            "result": "filedLate" if date > f"{year + 1}-06-30" else "filed",
        })

    # ---- REG-04 abnormal-operation list ----------------------------------------------------------
    if k == "E4":
        add("REG-04", "2024-12-31", check("notListed", "经营异常名录"))
        add("REG-04", "2025-07-10", {"listingReason": "未依照《企业信息公示暂行条例》规定的期限公示年度报告",
                                     "decisionAuthority": e["authority"], "status": "listed"})
        add("REG-04", "2025-09-12", {"removalReason": "补报未报年份的年度报告并公示后申请移出",
                                     "decisionAuthority": e["authority"], "status": "removed"})
    else:
        checks("REG-04", "notListed", "经营异常名录")

    # ---- REG-05 chattel mortgages and equity pledges --------------------------------------------
    if k == "E2":
        add("REG-05", "2024-03-15", {"registrationType": "chattelMortgage", "registrationNumber": "320115202403150021",
                                     "collateral": "茶点生产线设备一套(烘烤、成型、包装)", "securedAmount": 800_000.0,
                                     "mortgagee": "示例银行股份有限公司南京江宁支行", "debtTerm": "2024-03-15至2026-03-14",
                                     "status": "registered"})
        add("REG-05", "2026-03-20", {"registrationType": "chattelMortgage", "registrationNumber": "320115202403150021",
                                     "cancellationReason": "主债权消灭", "status": "cancelled"})
    elif k == "E4":
        add("REG-05", "2024-05-08", {"registrationType": "chattelMortgage", "registrationNumber": "320312202405080043",
                                     "collateral": "制鞋流水线、注塑机等生产设备 26 台(套)", "securedAmount": 1_200_000.0,
                                     "mortgagee": "示例农村商业银行股份有限公司铜山支行", "debtTerm": "2024-05-08至2027-05-07",
                                     "status": "registered"})
        add("REG-05", "2025-02-26", {"registrationType": "equityPledge", "registrationNumber": "320312202502260007",
                                     "pledgor": "郑立强", "pledgedCapital": 1_500_000.0,
                                     "pledgee": "徐州示例小额贷款股份有限公司", "status": "registered"})
    else:
        checks("REG-05", "noRecord", "动产抵押及股权出质登记")

    # ---- PER-01 key personnel: appointments and departures --------------------------------------
    people = {
        "E1": [(e["established"], "陈卓远", "执行董事兼总经理"), (e["established"], "林晓雯", "监事"),
               (e["established"], "周敏", "财务负责人")],
        "E2": [(e["established"], "沈建明", "执行董事兼总经理"), (e["established"], "沈露", "监事"),
               (e["established"], "何丽娟", "财务负责人")],
        "E3": [(e["established"], "傅海波", "执行董事兼经理"), (e["established"], "应雪琴", "监事"),
               (e["established"], "傅海燕", "财务负责人")],
        "E4": [(e["established"], "郑立强", "执行董事兼总经理"), (e["established"], "潘秀芬", "监事"),
               (e["established"], "郑晓丹", "财务负责人")],
    }[k]
    for date, who, pos in people:
        add("PER-01", date, {"personName": who, "position": pos, "changeType": "appointed", "status": "inOffice"})
    changes = {
        "E1": [("2025-03-03", "周敏", "财务负责人", "left"), ("2025-03-03", "许嘉怡", "财务负责人", "appointed")],
        "E2": [("2024-07-01", "沈建明", "执行董事兼总经理", "left"), ("2024-07-01", "沈建明", "执行董事", "appointed"),
               ("2024-07-01", "吴振宇", "总经理", "appointed")],
        "E3": [("2024-06-03", "傅海燕", "财务负责人", "left"), ("2024-06-03", "傅佳琪", "财务负责人", "appointed")],
        "E4": [("2025-12-08", "郑晓丹", "财务负责人", "left"), ("2025-12-08", "黄建伟", "财务负责人", "appointed")],
    }[k]
    for date, who, pos, kind in changes:
        add("PER-01", date, {"personName": who, "position": pos, "changeType": kind,
                             "status": "inOffice" if kind == "appointed" else "left"})

    # ---- ADM-01 administrative licences ---------------------------------------------------------
    lic = {
        "E1": [("2019-05-20", "增值电信业务经营许可证", "浙B2-20190356", "浙江省通信管理局", "第二类增值电信业务中的信息服务业务(仅限互联网信息服务)",
                "2019-05-20", "2024-05-19", "new", "valid"),
               ("2024-04-28", "增值电信业务经营许可证", "浙B2-20190356", "浙江省通信管理局", "第二类增值电信业务中的信息服务业务(仅限互联网信息服务)",
                "2024-05-20", "2029-05-19", "renewal", "valid")],
        "E2": [("2023-09-12", "食品生产许可证", "SC10832011500457", "南京市江宁区市场监督管理局", "饼干;茶叶及相关制品;糕点",
                "2023-09-12", "2028-09-11", "renewal", "valid"),
               ("2024-03-08", "食品经营许可证", "JY13201150231846", "南京市江宁区市场监督管理局", "预包装食品销售(含冷藏冷冻食品);网络食品销售",
                "2024-03-08", "2029-03-07", "new", "valid")],
        "E3": [("2020-03-04", "第二类医疗器械经营备案凭证", "苏苏药监械经营备20200123号", "苏州市吴中区市场监督管理局", "Ⅱ类:6864 医用卫生材料及敷料",
                "2020-03-04", "", "new", "valid"),
               ("2024-06-18", "第二类医疗器械经营备案凭证", "苏苏药监械经营备20200123号", "苏州市吴中区市场监督管理局", "Ⅱ类:14 注输、护理和防护器械(变更经营场所)",
                "2024-06-18", "", "change", "valid")],
        "E4": [("2021-03-26", "排污许可证", f"{u}001U", "徐州市生态环境局", "简化管理:制鞋业(挥发性有机物)",
                "2021-03-26", "2026-03-25", "new", "valid"),
               ("2026-02-25", "排污许可证", f"{u}001U", "徐州市生态环境局", "简化管理:制鞋业(挥发性有机物)",
                "2026-03-26", "2031-03-25", "renewal", "valid")],
    }[k]
    for date, lname, num, auth, content, vf, vu, kind, status in lic:
        f = {"licenceName": lname, "licenceNumber": num, "issuingAuthority": auth, "licensedContent": content,
             "validFrom": vf, "changeType": kind, "status": status}
        if vu:
            f["validUntil"] = vu
        add("ADM-01", date, f)

    # ---- ADM-02 administrative penalties --------------------------------------------------------
    if k == "E2":
        add("ADM-02", "2024-08-22", {
            "decisionNumber": "宁江市监处罚〔2024〕412号", "authority": "南京市江宁区市场监督管理局",
            "violation": "生产的预包装食品标签营养成分表标示值与实测值偏差超出允许范围",
            "legalBasis": "《中华人民共和国食品安全法》第一百二十五条第二款", "penaltyTypes": "警告;罚款;没收违法所得",
            "fineAmount": 3_000.0, "confiscatedAmount": 1_260.0, "status": "inPublicity"})
        add("ADM-02", "2025-01-10", {"decisionNumber": "宁江市监处罚〔2024〕412号", "status": "creditRepaired",
                                     "repairNote": "已履行处罚决定,公示满三个月,经申请提前停止公示"})
        add("ADM-02", "2025-12-31", check("noRecord", "行政处罚信息(公示期内)"))
        add("ADM-02", "2026-10-31", check("noRecord", "行政处罚信息(公示期内)"))
    elif k == "E4":
        add("ADM-02", "2024-12-31", check("noRecord", "行政处罚信息(公示期内)"))
        add("ADM-02", "2025-05-14", {
            "decisionNumber": "徐环铜罚〔2025〕37号", "authority": "徐州市生态环境局",
            "violation": "调胶、刷胶工序产生的挥发性有机物废气未经收集处理直接排放",
            "legalBasis": "《中华人民共和国大气污染防治法》第一百零八条第一项", "penaltyTypes": "罚款;责令改正",
            "fineAmount": 52_000.0, "confiscatedAmount": 0.0, "status": "inPublicity"})
        add("ADM-02", "2025-11-20", {"decisionNumber": "徐环铜罚〔2025〕37号", "status": "creditRepaired",
                                     "repairNote": "已缴纳罚款并完成整改,经核查准予信用修复"})
        add("ADM-02", "2026-01-09", {
            "decisionNumber": "徐铜消行罚决字〔2026〕0012号", "authority": "徐州市铜山区消防救援大队",
            "violation": "生产车间疏散通道堆放杂物,安全出口上锁",
            "legalBasis": "《中华人民共和国消防法》第六十条第一款第五项", "penaltyTypes": "罚款",
            "fineAmount": 8_000.0, "confiscatedAmount": 0.0, "status": "inPublicity"})
    else:
        checks("ADM-02", "noRecord", "行政处罚信息(公示期内)")

    # ---- QUA-01 qualifications -------------------------------------------------------------------
    qual = {
        "E1": [("2024-06-18", "信息系统建设和服务能力等级证书", "CS2-3301-000917", "中国电子信息行业联合会", "2024-06-18", "2028-06-17", "CS2", "valid")],
        "E2": [("2022-07-05", "出口食品生产企业备案证明", "3201/23045", "南京海关", "2022-07-05", "", "", "valid"),
               ("2024-11-05", "危害分析与关键控制点(HACCP)体系认证证书", "001HACCP2400871", "示例认证有限公司", "2024-11-05", "2027-11-04", "", "valid")],
        "E3": [("2024-07-09", "质量管理体系认证证书(GB/T 19001-2016/ISO 9001:2015)", "04724Q31298R0S", "示例认证有限公司", "2024-07-09", "2027-07-08", "", "valid")],
        "E4": [("2023-05-16", "安全生产标准化证书", "苏徐AQBQG3Ⅲ202300318", "徐州市应急管理局", "2023-05-16", "2026-05-15", "3", "valid"),
               ("2026-05-16", "安全生产标准化证书", "苏徐AQBQG3Ⅲ202300318", "徐州市应急管理局", "2023-05-16", "2026-05-15", "3", "expired")],
    }[k]
    for date, qname, num, issuer, vf, vu, level, status in qual:
        f = {"qualificationName": qname, "certificateNumber": num, "issuer": issuer, "validFrom": vf, "status": status}
        if vu:
            f["validUntil"] = vu
        if level:
            f["level"] = level
        add("QUA-01", date, f)

    # ---- JUD-01..04, DIS-01: E4's supplier dispute runs through the courts -----------------------
    if k == "E4":
        civil = f"(2025){court_code}民初1873号"
        enforce = f"(2025){court_code}执2416号"
        add("JUD-04", "2025-03-06", {"caseNumber": civil, "court": court, "caseCause": "买卖合同纠纷", "role": "defendant",
                                     "counterparty": "徐州示例皮革有限公司", "claimAmount": 386_500.0, "status": "pending"})
        add("JUD-04", "2025-06-18", {"caseNumber": civil, "court": court, "caseCause": "买卖合同纠纷", "role": "defendant",
                                     "counterparty": "徐州示例皮革有限公司", "judgedAmount": 379_260.0,
                                     "status": "closed", "result": "lost"})
        add("JUD-04", "2025-11-24", {"caseNumber": f"(2025){court_code}民初6520号", "court": court, "caseCause": "劳动争议",
                                     "role": "defendant", "counterparty": "(自然人,已隐名)", "claimAmount": 46_800.0,
                                     "status": "pending"})
        add("JUD-04", "2026-01-13", {"caseNumber": f"(2025){court_code}民初6520号", "court": court, "caseCause": "劳动争议",
                                     "role": "defendant", "counterparty": "(自然人,已隐名)", "judgedAmount": 38_000.0,
                                     "status": "closed", "result": "mediated"})
        add("JUD-02", "2024-12-31", check("noRecord", "被执行人信息"))
        add("JUD-02", "2025-08-11", {"caseNumber": enforce, "court": court, "basis": civil,
                                     "enforcementAmount": 392_180.0, "status": "executing"})
        add("JUD-02", "2026-03-16", {"caseNumber": enforce, "court": court, "performedAmount": 392_180.0,
                                     "closingManner": "执行完毕", "status": "concluded"})
        for cat, scope in (("JUD-01", "失信被执行人名单"), ("JUD-03", "限制消费令"), ("DIS-01", "严重失信主体名单")):
            add(cat, "2024-12-31", check("notListed" if cat != "JUD-03" else "noRecord", scope))
        add("JUD-01", "2025-10-20", {"caseNumber": enforce, "court": court, "basis": civil,
                                     "obligation": "支付货款 379,260 元及迟延履行期间的债务利息",
                                     "performance": "全部未履行", "dishonestBehaviour": "有履行能力而拒不履行生效法律文书确定义务",
                                     "status": "listed"})
        add("JUD-01", "2026-03-18", {"caseNumber": enforce, "court": court, "removalReason": "已全部履行", "status": "removed"})
        add("JUD-03", "2025-10-20", {"caseNumber": enforce, "court": court,
                                     "restrictedPersons": f"{name};郑立强(法定代表人)", "status": "inForce"})
        add("JUD-03", "2026-03-18", {"caseNumber": enforce, "court": court, "liftReason": "已全部履行", "status": "lifted"})
        add("DIS-01", "2025-10-20", {"listName": "失信被执行人名单", "listingAuthority": court,
                                     "listingReason": f"{enforce} 有履行能力而拒不履行", "status": "listed"})
        add("DIS-01", "2026-03-18", {"listName": "失信被执行人名单", "listingAuthority": court,
                                     "removalReason": "已全部履行,法院删除失信信息", "status": "removed"})
    else:
        checks("JUD-01", "notListed", "失信被执行人名单")
        checks("JUD-02", "noRecord", "被执行人信息")
        checks("JUD-03", "noRecord", "限制消费令")
        checks("DIS-01", "notListed", "严重失信主体名单")
        if k == "E1":  # a plaintiff's case, settled: litigation is not always bad news
            civil = f"(2024){court_code}民初5213号"
            add("JUD-04", "2024-03-11", {"caseNumber": civil, "court": court, "caseCause": "计算机软件开发合同纠纷",
                                         "role": "plaintiff", "counterparty": "示例商贸有限公司", "claimAmount": 126_000.0,
                                         "status": "pending"})
            add("JUD-04", "2024-05-20", {"caseNumber": civil, "court": court, "caseCause": "计算机软件开发合同纠纷",
                                         "role": "plaintiff", "counterparty": "示例商贸有限公司", "judgedAmount": 118_000.0,
                                         "status": "closed", "result": "mediated"})
            add("JUD-04", "2025-12-31", check("noRecord", "裁判文书及涉诉信息(未结案件)"))
            add("JUD-04", "2026-10-31", check("noRecord", "裁判文书及涉诉信息(未结案件)"))
        else:
            checks("JUD-04", "noRecord", "裁判文书及涉诉信息")

    # ---- HON-01 honours ------------------------------------------------------------------------
    honours = {
        "E1": [("2025-11-20", "2023—2024 年度浙江省“守合同重信用”企业(AA)", "浙江省市场监督管理局", "provincial")],
        "E2": [("2025-01-16", "2024 年度江宁区食品安全诚信示范单位", "南京市江宁区食品安全委员会办公室", "district")],
        "E3": [("2026-02-10", "2025 年度吴中区外贸稳增长突出贡献企业", "苏州市吴中区人民政府", "district")],
        "E4": [],
    }[k]
    for date, hname, auth, level in honours:
        add("HON-01", date, {"honourName": hname, "awardingAuthority": auth, "level": level})
    if not honours:
        checks("HON-01", "noRecord", "荣誉表彰信息")

    # ---- POL-01 policy support (non-public) -------------------------------------------------------
    support = {
        "E1": [("2024-07-15", "fiscalSubsidy", "杭州市企业研发费用投入补助", "杭州市科学技术局", "subsidyAmount", 86_000.0),
               ("2025-03-20", "fiscalSubsidy", "首次认定国家高新技术企业奖励", "杭州市科学技术局", "subsidyAmount", 200_000.0),
               ("2025-08-20", "interestSubsidy", "知识产权质押融资贴息", "杭州市市场监督管理局(知识产权局)", "interestSubsidyAmount", 12_600.0)],
        "E2": [("2024-06-28", "fiscalSubsidy", "失业保险稳岗返还", "南京市江宁区人力资源和社会保障局", "subsidyAmount", 14_200.0),
               ("2025-05-12", "governmentGuarantee", "政府性融资担保(小微企业担保)", "南京示例融资担保有限公司", "guaranteedLoanAmount", 1_500_000.0),
               ("2025-09-15", "interestSubsidy", "政府性融资担保贷款贴息", "南京市江宁区财政局", "interestSubsidyAmount", 8_400.0)],
        "E3": [("2024-05-30", "fiscalSubsidy", "出口信用保险保费补助", "苏州市商务局", "subsidyAmount", 18_600.0),
               ("2025-06-12", "fiscalSubsidy", "外贸发展专项资金", "苏州市吴中区商务局", "subsidyAmount", 30_000.0),
               ("2026-05-20", "fiscalSubsidy", "出口信用保险保费补助", "苏州市商务局", "subsidyAmount", 21_300.0)],
        "E4": [("2024-06-20", "fiscalSubsidy", "失业保险稳岗返还", "徐州市铜山区人力资源和社会保障局", "subsidyAmount", 21_500.0),
               ("2024-09-10", "fiscalSubsidy", "工业企业技术改造补助", "徐州市铜山区工业和信息化局", "subsidyAmount", 120_000.0)],
    }[k]
    for date, kind, programme, auth, field, amount in support:
        add("POL-01", date, {"supportType": kind, "programme": programme, "grantingAuthority": auth, field: amount})

    # ---- TAX-01 taxpayer registration and status; TAX-02 tax credit rating ------------------------
    tax_reg = {"E1": "2016-03-25", "E2": "2018-06-14", "E3": "2019-11-28", "E4": "2020-07-22"}[k]
    reg = {"taxAuthority": e["taxAuthority"], "taxpayerType": "generalTaxpayer", "registeredOn": tax_reg}
    add("TAX-01", tax_reg, {**reg, "status": "normal"})
    for d in CHECK_DATES:
        add("TAX-01", d, {**reg, "status": "normal"})
    grades = {"E1": (("A", 93), ("A", 95), ("A", 94)), "E2": (("B", 84), ("A", 91), ("A", 92)),
              "E3": (("A", 92), ("A", 94), ("A", 95)), "E4": (("B", 82), ("B", 76), ("C", 62))}[k]
    for year, (grade, score), date in zip((2023, 2024, 2025), grades, ("2024-04-12", "2025-04-14", "2026-04-13")):
        add("TAX-02", date, {"evaluationYear": str(year), "creditGrade": grade, "score": score})

    # ---- TAX-04 tax arrears announcements (from the TAX-03 simulation); TAX-05 --------------------
    if k == "E4":
        add("TAX-04", "2024-12-31", check("noRecord", "欠税公告"))
        for date, (y, m) in (("2025-07-15", (2025, 6)), ("2025-10-15", (2025, 9))):
            add("TAX-04", date, {"announcementPeriod": f"{y}-Q{(m - 1) // 3 + 1}", "taxTypes": "增值税;城市维护建设税;个人所得税(代扣代缴)",
                                 "arrearsBalance": money(annual[y]["balances"][m]), "status": "outstanding"})
        add("TAX-04", "2025-12-26", {"arrearsBalance": 0.0, "lateFeePaid": money(annual[2025]["balances"][9] * 0.0005 * 120),
                                     "status": "cleared"})
    else:
        checks("TAX-04", "noRecord", "欠税公告")
    checks("TAX-05", "notListed", "重大税收违法失信主体名单")

    # ---- CUS-01 customs registration and credit grade; CUS-03 customs penalties -------------------
    cus = {"E1": ("2021-06-10", "3301960A27", "杭州海关"), "E2": ("2020-04-17", "3201964B19", "南京海关"),
           "E3": ("2019-12-10", "3205966D58", "苏州海关"), "E4": ("2020-09-03", "3203960C31", "徐州海关")}[k]
    creg = {"customsCode": cus[1], "registrationType": "进出口货物收发货人", "customsOffice": cus[2]}
    add("CUS-01", cus[0], {**creg, "creditGrade": "general"})
    for d in CHECK_DATES:
        if k == "E3" and d == "2025-12-31":
            add("CUS-01", "2025-06-26", {**creg, "creditGrade": "advancedCertified", "certificateNumber": "AEOCN3205966D58"})
        grade = "advancedCertified" if (k == "E3" and d > "2025-06-26") else "general"
        add("CUS-01", d, {**creg, "creditGrade": grade})
    if k == "E4":
        add("CUS-03", "2024-12-31", check("noRecord", "海关行政处罚信息"))
        add("CUS-03", "2025-04-08", {"decisionNumber": "徐关缉违字〔2025〕0021号", "authority": "徐州海关",
                                     "violation": "出口货物申报不实(商品数量)", "fineAmount": 3_000.0, "status": "inPublicity"})
        add("CUS-03", "2026-10-31", check("noRecord", "海关行政处罚信息(公示期内)"))
    else:
        checks("CUS-03", "noRecord", "海关行政处罚信息")

    # ---- RE-01 real estate (non-public) ----------------------------------------------------------
    if k == "E2":
        cert = "苏(2019)南京市不动产权第0287431号"
        add("RE-01", "2019-11-26", {"certificateNumber": cert, "location": e["address"], "propertyUse": "工业",
                                    "floorArea": 1_260.5, "registrationType": "title", "status": "registered"})
        add("RE-01", "2024-03-18", {"certificateNumber": cert, "registrationType": "mortgage", "securedAmount": 2_400_000.0,
                                    "mortgagee": "示例银行股份有限公司南京江宁支行", "status": "mortgaged"})
    elif k == "E4":
        cert = "苏(2020)徐州市不动产权第0061528号"
        add("RE-01", "2020-11-19", {"certificateNumber": cert, "location": e["address"], "propertyUse": "工业",
                                    "floorArea": 3_420.0, "registrationType": "title", "status": "registered"})
        add("RE-01", "2024-05-10", {"certificateNumber": cert, "registrationType": "mortgage", "securedAmount": 3_000_000.0,
                                    "mortgagee": "示例农村商业银行股份有限公司铜山支行", "status": "mortgaged"})
        add("RE-01", "2025-09-02", {"certificateNumber": cert, "registrationType": "seizure", "seizingAuthority": court,
                                    "basis": f"(2025){court_code}执2416号", "status": "seized"})
        add("RE-01", "2026-03-20", {"certificateNumber": cert, "registrationType": "seizureReleased", "seizingAuthority": court,
                                    "status": "mortgaged"})
    else:
        checks("RE-01", "noRecord", "不动产登记信息(企业名下)")

    # ---- IP-01 patents, IP-02 trademarks, IP-03 IP pledges ---------------------------------------
    patents = {
        "E1": [("2024-08-16", patent_number(2022, 1, 1093867), "invention", "一种面向信用数据共享的字段级脱敏方法及系统", "2022-09-05", "valid"),
               ("2025-06-27", patent_number(2023, 1, 1487205), "invention", "一种基于授权凭证的数据调用审计方法", "2023-11-02", "valid")],
        "E2": [("2024-04-09", patent_number(2023, 3, 517734), "design", "茶点礼盒(雨茗)", "2023-10-30", "valid"),
               ("2025-02-21", patent_number(2024, 2, 1296548), "utilityModel", "一种茶饼压制成型装置", "2024-06-13", "valid")],
        "E3": [],
        "E4": [("2023-12-15", patent_number(2023, 2, 1034519), "utilityModel", "一种防滑耐磨鞋底", "2023-04-20", "valid"),
               ("2024-07-05", patent_number(2024, 3, 104872), "design", "休闲鞋(PJ-24)", "2024-02-26", "valid"),
               ("2026-08-14", patent_number(2023, 2, 1034519), "utilityModel", "一种防滑耐磨鞋底", "2023-04-20", "lapsed")],
    }[k]
    for date, num, kind, title, applied, status in patents:
        add("IP-01", date, {"patentNumber": num, "patentType": kind, "title": title, "applicationDate": applied,
                            "status": status, **({"lapseReason": "未缴年费"} if status == "lapsed" else {})})
    if not patents:
        checks("IP-01", "noRecord", "专利信息(专利权人)")
    marks = {
        "E1": [("2021-02-14", "48213571", "示例云", "42", "软件即服务;计算机软件设计"), ("2024-05-07", "70245168", "示例云", "9", "计算机程序(可下载软件)")],
        "E2": [("2019-08-28", "31872046", "雨茗", "30", "糕点;饼干;茶"), ("2024-10-21", "73508826", "雨茗茶点", "30", "糕点;以茶为主的饮料")],
        "E3": [("2021-05-14", "50316274", "泓帆 HONGFAN", "21", "厨房用具;家用器皿"), ("2025-01-07", "76620913", "泓帆 HONGFAN", "8", "餐具(刀、叉和匙)")],
        "E4": [("2021-03-21", "47935522", "彭捷", "25", "鞋;运动鞋;靴")],
    }[k]
    for date, num, mark, cls, goods in marks:
        d0 = dt.date.fromisoformat(date)
        until = (d0.replace(year=d0.year + 10) - dt.timedelta(days=1)).isoformat()  # ten-year term
        add("IP-02", date, {"registrationNumber": num, "mark": mark, "niceClass": cls, "goods": goods,
                            "validUntil": until, "status": "registered"})
    if k == "E1":
        pledged = f"{patents[0][1]};{patents[1][1]}"
        add("IP-03", "2025-07-08", {"registrationNumber": "Y2025330000412", "pledgedPatents": pledged,
                                    "pledgee": "示例银行股份有限公司杭州分行", "securedAmount": 1_000_000.0,
                                    "pledgeTerm": "2025-07-08至2026-07-07", "status": "registered"})
        add("IP-03", "2026-07-10", {"registrationNumber": "Y2025330000412", "status": "cancelled"})
    else:
        checks("IP-03", "noRecord", "知识产权质押登记信息")

    # ---- TEC-01 high-tech enterprise, TEC-02 tech-based SME --------------------------------------
    if k == "E1":
        add("TEC-01", "2024-12-06", {"certificateNumber": "GR202433007215", "certifiedOn": "2024-12-06",
                                     "validUntil": "2027-12-05", "status": "certified"})
        add("TEC-01", "2025-12-31", {"certificateNumber": "GR202433007215", "validUntil": "2027-12-05", "status": "certified"})
        add("TEC-01", "2026-10-31", {"certificateNumber": "GR202433007215", "validUntil": "2027-12-05", "status": "certified"})
    else:
        checks("TEC-01", "notCertified", "高新技术企业认定")
    tsme = {"E1": (("2024-05-16", 78), ("2025-04-24", 82), ("2026-04-23", 85)),
            "E2": (("2025-06-05", 64), ("2026-05-21", 67)), "E3": (), "E4": ()}[k]
    for i, (date, score) in enumerate(tsme):
        year = date[:4]
        serial = {"E1": 1207, "E2": 3318}[k] + 211 * i
        add("TEC-02", date, {"registrationNumber": f"{year}{e['division']}A{serial:05d}",
                             "evaluationYear": year, "score": score, "status": "registered"})
    if not tsme:
        checks("TEC-02", "notRegistered", "科技型中小企业评价入库")
    return ev


# --------------------------------------------------------------------------------------------------
# Output


def build() -> list[dict]:
    catalog = json.loads((Path(__file__).resolve().parent.parent / "spec" / "catalog.json").read_text("utf-8"))
    cats = [c["code"] for c in catalog["categories"]]
    providers = {c["code"]: c["providers"] for c in catalog["categories"]}
    # the department whose records these are; SOC-02 could also be MOHRSS, but in Zhejiang and Jiangsu
    # the tax bureau collects enterprises' social-insurance contributions
    provider_of = {c: providers[c][0] for c in cats}
    provider_of["SOC-02"] = "STA"
    lines: list[dict] = []
    for e in ENTERPRISES:
        sim = simulate(e)
        recs = {**sim["monthly"], **events(e, sim)}
        missing = [c for c in cats if not recs.get(c)]
        unknown = [c for c in recs if c not in providers]
        assert not missing and not unknown, (e["key"], missing, unknown)
        for c in cats:
            for date, fields in sorted(recs[c], key=lambda r: r[0]):  # stable: same-day order kept
                assert provider_of[c] in providers[c]
                lines.append({"uscc": e["uscc"], "category": c, "date": date, "provider": provider_of[c], "fields": fields})
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-o", "--output", default=str(Path(__file__).resolve().parent / "records.jsonl"))
    args = ap.parse_args()
    text = "".join(json.dumps(r, ensure_ascii=False, separators=(",", ":"), allow_nan=False) + "\n" for r in build())
    if args.output == "-":
        sys.stdout.write(text)
    else:
        Path(args.output).write_text(text, encoding="utf-8", newline="\n")
        print(f"wrote {text.count(chr(10))} records to {args.output}", file=sys.stderr)


if __name__ == "__main__":
    main()
