"""审计记录 (admin): every login, upload, commit, rollback, task update, account change and config reload."""

from datetime import datetime, time, timedelta

import streamlit as st

from monitor.accounts.audit import ACTIONS, OUTCOMES, actor_label, readable
from monitor.accounts.users import Action
from monitor.domain import clock
from pages import _auth as auth
from pages._context import context_or_stop
from pages._downloads import table_downloads
from pages._tables import show_table

context_or_stop()
st.title("审计记录")
auth.require(Action.ADMIN)
log = auth.audit_log()
st.caption("登录（含失败）、上传、导入、回滚、任务进度登记、账户变更、列对应关系变更和配置重新加载，均记录操作人、时间、来源地址和所涉对象。"
           "可用下方按钮导出。")

c1, c2, c3, c4 = st.columns([2, 2, 3, 1])
today = clock.today()
days = c1.date_input("日期范围", value=(today - timedelta(days=30), today), max_value=today, key="audit_days")
actor = c2.selectbox("操作人", ["", *log.actors()], format_func=lambda a: actor_label(a) or "全部", key="audit_actor")
actions = c3.multiselect("操作", list(ACTIONS), format_func=ACTIONS.get, placeholder="全部操作", key="audit_actions")
outcome = c4.selectbox("结果", ["", *OUTCOMES], format_func=lambda o: OUTCOMES.get(o, "全部"), key="audit_outcome")
since = datetime.combine(days[0], time.min) if days else None
until = datetime.combine(days[1] if len(days) > 1 else days[0], time.max) if days else None

frame = log.query(since=since, until=until, actor=actor or None, actions=actions or None, outcome=outcome or None,
                  limit=5000)
st.caption(f"共 {len(frame)} 条" + ("（最多显示 5000 条，请缩小范围）" if len(frame) == 5000 else ""))
table = readable(frame)
show_table(table, hide_index=True, key="audit_table", column_config={"说明": st.column_config.TextColumn(width="large")})
table_downloads(table, f"审计记录_{today:%Y%m%d}", key="audit_table_downloads")
