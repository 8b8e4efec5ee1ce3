"""Sources by name: the publisher of a web page a figure or a paraphrased document was read from,
never its address, and never the path of the product's own copy of a document. Charts, exports,
the briefing and the 总览 page all cite through here.

data/reference/published_figures.csv cites the page each published figure was read from, and
indicators.yaml the page a paraphrased target set (转述) was taken from.
"""

from __future__ import annotations

SOURCE_PUBLISHERS = {
    "cnipa.gov.cn": "国家知识产权局", "sipo.gov.cn": "国家知识产权局", "stats.gov.cn": "国家统计局",
    "shanxi.gov.cn": "山西省人民政府", "shaanxi.gov.cn": "陕西省人民政府", "yangling.gov.cn": "杨凌示范区管委会",
    "www.gov.cn": "中国政府网", "gmw.cn": "光明网", "cnr.cn": "央广网", "ce.cn": "中国经济网", "cri.cn": "国际在线",
    "sina.com.cn": "新浪财经", "kjjb.org": "科技金融时报", "macaumonthly.net": "澳门月刊",
}
PUBLIC_REPORTS = "公开报道"
GOVERNMENT_SITE = "地方政府网站"  # a *.gov.cn site not named above: a county's site is not 中国政府网


def publisher_of(url: str) -> str:
    """「国家知识产权局」 for a page on cnipa.gov.cn; 「公开报道」 for a site not in SOURCE_PUBLISHERS."""
    host = url.strip().lower().split("://", 1)[-1].split("/")[0].split(":")[0]
    fallback = GOVERNMENT_SITE if host.endswith(".gov.cn") else PUBLIC_REPORTS
    return next((name for h, name in sorted(SOURCE_PUBLISHERS.items(), key=lambda kv: -len(kv[0]))
                 if host == h or host.endswith("." + h)), fallback)


def source_names(sources: list[str]) -> list[str]:
    """Sources by name: the publisher of a known site, 「公开报道」 for any other web page, other text
    as given (a 文号, 「国家统计局公报」). Never a URL, never a file path."""
    names: list[str] = []
    for source in sources:
        text = str(source).strip()
        if not text:
            continue
        if text.lower().startswith(("http://", "https://")):
            name = publisher_of(text)
        elif "/" in text or "\\" in text or text.endswith((".txt", ".csv", ".xlsx", ".yaml")):
            continue  # the path of the product's own copy is no source a reader can look up
        else:
            name = text
        if name not in names:
            names.append(name)
    return sorted(names, key=lambda n: n == PUBLIC_REPORTS)  # named publishers first
