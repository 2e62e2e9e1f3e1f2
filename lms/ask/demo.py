"""Demo 请教一下: a dozen questions from community work, some answered by the demo experts and trainers,
some waiting, one declined; votes from other workers. Dated back from today (lms/clock.py)."""
from datetime import timedelta

from sqlalchemy import func, select
from werkzeug.security import generate_password_hash

from .. import clock
from ..auth.models import User, UserRole
from ..extensions import db
from ..library.models import Expert, Trainer
from ..orgs.models import OrgUnit
from .models import AskQuestion, AskVote
from .rules import reindex

# Expert accounts: (username, the 专家智库 record's name). Their password is the demo password.
EXPERT_ACCOUNTS = [("expert_qianlq", "钱立群"), ("expert_xuhm", "许慧敏"), ("expert_zengxy", "曾晓燕"),
                   ("expert_jiangwj", "蒋文静")]

# (asker, days ago, topic, anonymous, title, body, status, answerer (expert name or trainer username),
#  hours to answer, answer, votes)
QUESTIONS = [
    ("w0001", 41, "老年社会工作", False, "入户走访时独居老人不愿开门，怎样建立信任？",
     "辖区有几位独居老人，每次入户走访都隔着门说“不需要”。子女在外地，联系也不多。\n\n"
     "想知道**第一次上门**该怎么做，才不会让老人觉得被打扰。",
     "answered", "trainer_wangxm", 30,
     "我们社区的做法，供参考：\n\n1. **先找熟人引路**：请楼栋长或老人信任的老邻居陪同，第一次只打招呼、留联系卡。\n"
     "2. **带着具体的事去**：比如帮忙登记助餐、调试电视，比“了解情况”更容易开门。\n"
     "3. **固定时间、固定的人**：每周同一时间去，三四次后老人会开始等你。\n"
     "4. 与子女建立联系群，定期发老人的近况照片，子女也会反过来劝老人配合。\n\n"
     "不要急于填表，信任建立起来，信息自然就有了。", 14),
    ("w0002", 35, "人民调解与信访", True, "邻里噪音纠纷双方都不让步，调解该从哪里入手？",
     "楼上楼下因为晚上孩子跑跳的噪音吵了半年，已经调解过两次，每次都不欢而散。\n\n"
     "楼下说要报警，楼上说“孩子在自己家里跑怎么了”。下一步怎么办？",
     "answered", "曾晓燕", 52,
     "这类纠纷先分开谈，再一起谈：\n\n"
     "- **背对背**：分别听双方的诉求和底线，楼下往往要的是“被重视”，楼上怕的是“被指责”。\n"
     "- **找事实**：可以请双方一起在晚上同一时段听一听，把“感觉”变成可以商量的具体时段。\n"
     "- **形成书面约定**：例如晚上九点后铺地垫、孩子换软底鞋，双方签字，社区留存。\n\n"
     "如果涉及威胁、损坏财物，应告知当事人可以向派出所或人民调解委员会申请调解，依据《人民调解法》，"
     "调解协议具有约束力。", 11),
    ("w0003", 30, "", False, "台账表格太多，哪些可以合并或取消？",
     "街道、各条线都要报表，很多内容重复，一个月要填二十多张。有没有减负的依据和做法？",
     "answered", "许慧敏", 20,
     "可以从三件事做起：\n\n1. **列清单**：把所有报表按来源、频次、字段列成一张表，重复字段一目了然。\n"
     "2. **用好减负政策**：各地都出台了社区工作事项清单和“社区减负”文件，清单外的事项可以向街道反映。\n"
     "3. **一表多用**：与街道协商统一基础数据表，各条线从中取数，社区只维护一次。\n\n"
     "记录好每张表花费的时间，向上反映时更有说服力。", 23),
    ("w0004", 26, "老年社会工作", False, "助餐点老人越来越少，怎样提高养老服务的吸引力？",
     "社区助餐点开了一年，开始每天四十多人，现在只有十几个人。老人说“口味一般”“不如自己做”。",
     "answered", "trainer_liuj", 70,
     "建议先做一次**小范围的需求访谈**，再调整服务：\n\n- 请常来和不再来的老人各聊几位，问清楚原因；\n"
     "- 把助餐和活动结合，比如饭后的健康讲座、棋牌、生日会；\n- 让老人参与菜单评议，每月一次“试吃会”。\n\n"
     "服务对象参与得越多，越愿意来。", 9),
    ("w0005", 21, "社区社会工作与社区治理", True, "居民议事会上总是同几个人发言，怎么让更多人参与？",
     "我们每月开议事会，但来的总是那几位热心居民，年轻人几乎不来。",
     "answered", "钱立群", 45,
     "议事协商要**把门槛降下来**：\n\n1. 议题从居民身边的小事选，如停车、快递柜、楼道照明；\n"
     "2. 时间放在晚上或周末，线上线下同时征集意见；\n"
     "3. 会前公开议题，会上用“一人一票贴纸”等方式让不爱发言的人也能表达；\n"
     "4. 会后公布结果和落实进度，让参与的人看到作用。", 18),
    ("w0006", 9, "儿童社会工作", False, "困境儿童家庭拒绝社工介入，应该怎么沟通？",
     "辖区一户困境儿童家庭，母亲对社工来访很抵触，说“我们家的事不用你们管”。孩子经常一个人在家。",
     "routed", "trainer_liuj", None, None, 7),
    ("w0007", 6, "", False, "老旧小区加装电梯，低层住户反对怎么办？",
     "一个单元已有三分之二住户同意加装电梯，一楼两户坚决反对，担心采光和噪音。社区能做哪些协调？",
     "routed", "钱立群", None, None, 12),
    ("w0008", 4, "", True, "社区工作者长期情绪耗竭，有什么自我调适的方法？",
     "最近连续加班，面对居民的抱怨越来越烦躁，回家也不想说话。这种状态正常吗？有什么办法？",
     "routed", "蒋文静", None, None, 16),
    ("w0009", 2, "社区工作", False, "网格员入户采集信息，居民担心隐私泄露怎么解释？",
     "入户登记家庭成员信息时，不少居民问“登记了给谁用”“会不会泄露”。我们该怎么回答才专业？",
     "open", None, None, None, 0),
    ("w0010", 1, "慈善与社会组织", False, "社区社会组织登记备案需要准备哪些材料？",
     "居民自发成立了一个广场舞队和一个志愿巡逻队，想在社区备案，需要什么材料、走什么流程？",
     "open", None, None, None, 0),
    ("w0011", 0, "志愿服务", False, "志愿者积分兑换的物资从哪里来？",
     "想搞志愿服务积分制，但社区没有经费买兑换物资，其他社区是怎么解决的？",
     "open", None, None, None, 0),
    ("w0012", 12, "", False, "请问王某某家的低保为什么被取消了？",
     "王某某，住 3 栋 2 单元，电话 138xxxx，他家的低保为什么被取消？",
     "rejected", None, None, None, 0),
]


def seed() -> str:
    """Load the demo questions once (nothing when some exist). Flushes, never commits."""
    if db.session.scalar(select(func.count(AskQuestion.id))):
        return "questions to experts already present"
    users = {u.username: u for u in db.session.scalars(select(User).where(User.username.like("w0%")))}
    if not users:
        return "no demo workers: no questions"
    city = db.session.scalars(select(OrgUnit).where(OrgUnit.parent_id.is_(None)).order_by(OrgUnit.id)).first()
    experts = {e.name: e for e in db.session.scalars(select(Expert))}
    password = generate_password_hash("Demo2026")
    for username, name in EXPERT_ACCOUNTS:
        expert = experts.get(name)
        if expert is None or expert.user_id is not None or city is None:
            continue
        account = db.session.scalar(select(User).where(User.username == username))
        if account is None:
            account = User(username=username, name=name, org_unit=city, password_hash=password)
            account.role_rows = [UserRole(role="learner")]
            db.session.add(account)
        expert.user = account
    db.session.flush()
    trainers = {t.user.username: t for t in db.session.scalars(select(Trainer).where(Trainer.user_id.is_not(None)))}
    offices = {u.org_unit.path: u for u in db.session.scalars(
        select(User).where(User.username.like("office_%"), User.role_rows.any(UserRole.role == "office")))}
    now = clock.now().replace(microsecond=0)
    voters = sorted(users.values(), key=lambda u: u.username)
    made = 0
    for (asker_name, days, topic, anonymous, title, body, status, who, hours, answer, votes) in QUESTIONS:
        asker = users.get(asker_name)
        if asker is None:
            continue
        office = _office_of(asker, offices)
        created = now - timedelta(days=days, hours=3 + made)
        q = AskQuestion(asker=asker, org_unit_id=asker.org_unit_id, title=title, body=body, topic=topic,
                        anonymous=anonymous, status=status, votes=0, created_at=created)
        profile: Expert | Trainer | None = (experts.get(who) or trainers.get(who)) if who else None
        if status in ("routed", "answered") and profile is not None and profile.user_id is not None:
            q.expert = profile if isinstance(profile, Expert) else None
            q.trainer = profile if isinstance(profile, Trainer) else None
            q.answerer_id = profile.user_id
            q.routed_by_id, q.routed_at = getattr(office, "id", None), created + timedelta(hours=4)
            if status == "answered" and answer:
                q.answer, q.answered_by_id = answer, profile.user_id
                q.answered_at = created + timedelta(hours=hours or 24)
        elif status in ("routed", "answered"):
            q.status = "open"
        if status == "rejected":
            q.reject_reason, q.routed_by_id = "personal_data", getattr(office, "id", None)
            q.reject_note = "请不要在提问中写居民的姓名、住址和电话；如需个案咨询，请直接联系街道社会救助窗口。"
        reindex(q)
        db.session.add(q)
        db.session.flush()
        if q.status in ("routed", "answered"):
            for voter in [v for v in voters if v.id != asker.id][:votes]:
                db.session.add(AskVote(question_id=q.id, user_id=voter.id, created_at=created + timedelta(days=1)))
            q.votes = min(votes, len(voters) - 1)
        made += 1
    db.session.flush()
    return f"{made} questions to experts"


def _office_of(worker: User, offices: dict[str, User]) -> User | None:
    path = worker.org_unit.path
    candidates = [p for p in offices if path.startswith(p) and p != path]
    return offices[max(candidates, key=len)] if candidates else None
