"""The demo city's 一教五库: trainers, training bases, experts, institutions and textbooks of 安澜市.

seed_library() is idempotent: records are found by name (trainers with an account also by
that account) and existing ones are left as they are. Every person, place and book is invented.
Flushes, never commits (the seed-demo command commits).
"""
from sqlalchemy import select

from ..auth.models import User
from ..extensions import db
from ..orgs.models import OrgUnit
from .models import Expert, Institution, Textbook, Trainer, TrainingBase

# username (or None), name, kind, title, affiliation, expertise, org unit code, phone, bio (Markdown)
TRAINERS = [
    ("trainer_wangxm", "王晓梅", "practitioner", "街道社工站站长", "青禾区云锦街道社会工作服务站",
     "社工站建设、社区议事协商、居民骨干培育", "QH01", "13800001101",
     "在社区一线工作十五年，先后做过网格员、社区副书记，2021 年起负责云锦街道社工站。\n\n"
     "- 带领团队孵化了 12 支居民自组织\n- 主持“邻里议事厅”项目，被评为全市社区治理优秀案例\n\n"
     "讲课以真实案例为主，擅长把议事协商的流程讲清楚、讲具体。"),
    ("trainer_chenzy", "陈志远", "college", "高校社会工作系副教授", "安澜大学社会学院社会工作系",
     "社会工作理论、个案工作、社区研究", None, "13800001102",
     "社会工作博士，长期从事社区社会工作教学与研究，主持多项市级社区治理课题。\n\n"
     "近年带领学生驻点社工站开展**行动研究**，关注理论如何转化为一线可用的方法。"),
    ("trainer_liuj", "刘静", "practitioner", "社工站督导", "锦屏区东篱街道社会工作服务站",
     "专业督导、小组工作、困境儿童服务", "JP01", "13800001103",
     "中级社会工作师，负责东篱街道社工站的专业督导。\n\n"
     "擅长小组工作设计与带领，曾为 30 余名新入职社工提供一对一督导，"
     "课程中常用*情景演练*帮助学员把方法用起来。"),
    ("trainer_zhanggh", "张国华", "expert", "政策研究专家", "安澜市社会治理研究中心",
     "基层治理政策、社区减负增效、法规与政策", None, "13800001104",
     "多年从事民政与基层治理政策研究，参与起草本市多项社区建设文件。\n\n"
     "授课重在讲清政策的**来龙去脉**与落地要点，并结合职业水平考试的法规与政策科目答疑。"),
    ("trainer_zhaol", "赵琳", "practitioner", "社会工作师、考试辅导讲师", "桂湖区桂湖街道社会工作服务站",
     "职业水平考试辅导、社会工作实务、个案记录", "GH01", "13800001105",
     "社会工作师，连续五年为全市社区工作者开设考前辅导班。\n\n"
     "- 归纳整理了综合能力、实务两科的高频知识点\n- 擅长案例分析题的答题思路训练"),
    ("trainer_zhouhy", "周海燕", "expert", "养老服务专家", "安澜市养老服务指导中心",
     "居家社区养老、老年人能力评估、社区助餐", None, "13800001106",
     "从事养老服务管理二十余年，参与全市社区养老服务站点的布局与评估。\n\n"
     "关注“一老一小”服务的社区落地，课程包含大量站点运营的实际数据与案例。"),
    ("trainer_sunjj", "孙建军", "practitioner", "社区应急管理讲师", "临江县临江镇综合应急服务站",
     "社区应急预案、防汛演练、网格化应急响应", "LJ01", "13800001107",
     "退役军人，从事基层应急管理工作十年，组织过多次社区防汛与消防演练。\n\n"
     "课程以**演练脚本**和应急物资清单为抓手，让社区“拿来就能用”。"),
    ("trainer_huangl", "黄丽", "expert", "儿童与家庭服务专家", "安澜市儿童福利指导中心",
     "儿童关爱保护、家庭教育指导、家庭社会工作", None, "13800001108",
     "长期从事困境儿童保障与家庭服务工作，参与编写本市儿童主任工作手册。\n\n"
     "擅长以家庭为中心的个案评估与多部门协作，课程中提供大量可直接使用的评估表单。"),
    (None, "马文博", "college", "社区管理与服务专业讲师", "安澜职业技术学院",
     "社区管理、志愿服务管理、社区活动策划", None, "13800001109",
     "讲授社区管理与服务专业课程八年，指导学生在社区开展志愿服务项目。\n\n"
     "课程注重实操，常带学员现场设计一次完整的社区活动方案。"),
    (None, "何秀兰", "practitioner", "社区党委书记", "青禾区云锦街道桂香社区",
     "党建引领小区治理、物业纠纷调处、居民骨干培育", "QH0101", "13800001110",
     "在桂香社区工作二十年，推动辖区 9 个老旧小区成立业主委员会和小区党支部。\n\n"
     "分享的经验来自一个个具体的小区：从**停车难**到**加装电梯**，讲清楚居民怎么商量、事情怎么落地。"),
    (None, "罗建平", "practitioner", "村党支部书记", "临江县石桥镇双河村",
     "乡村治理、村规民约、集体经济发展", "LJ0204", "13800001111",
     "带领双河村修订村规民约、发展村集体经济，村里的“院坝说事会”已坚持六年。\n\n"
     "适合讲授乡村治理与村民自治的实务课程。"),
    (None, "郑雅琴", "college", "公共管理教研部副教授", "中共安澜市委党校",
     "基层党建、公共政策、群众工作方法", None, "13800001112",
     "主讲基层党建与群众工作方法课程，多次参与社区书记轮训班的教学设计。\n\n"
     "课堂以*案例教学*为主，注重把政策要求与社区日常工作对应起来。"),
    (None, "谢明辉", "expert", "执业律师", "安澜明正律师事务所",
     "社区法律服务、人民调解、矛盾纠纷化解", None, "13800001113",
     "执业十二年，担任多个社区的法律顾问，长期参与人民调解工作。\n\n"
     "课程围绕社区常见纠纷（相邻关系、物业服务、婚姻家庭）讲解法律要点与调解技巧。"),
    (None, "唐佳颖", "practitioner", "社区社会工作者", "锦屏区书院街道春晖社区",
     "社区志愿服务、青少年服务、活动策划", "JP0202", "13800001114",
     "助理社会工作师，负责春晖社区志愿服务站，组建了 200 余人的居民志愿者队伍。\n\n"
     "分享志愿者招募、培训与激励的具体做法。"),
]

# name, kind, org unit code, address, theme, capacity, contact, phone, description (Markdown)
BASES = [
    ("桂香社区党建引领小区治理示范点", "demo_community", "QH0101", "青禾区云锦街道桂香路 18 号",
     "党建引领、小区治理、业委会建设", 60, "何秀兰", "13800002101",
     "桂香社区以“小区党支部 + 业委会 + 物业”三方协同为特色。\n\n"
     "**现场教学内容**\n\n- 小区议事会现场观摩\n- 老旧小区改造中的居民协商\n- 物业纠纷调处台账"),
    ("云锦街道“邻里议事厅”主题街区", "theme_street", "QH01", "青禾区云锦街道锦绣大道沿线",
     "议事协商、居民参与、社区营造", 80, "王晓梅", "13800002102",
     "沿街布置了 6 个议事点位，居民可就近参与公共事务讨论。\n\n适合开展议事协商流程的**实地演练**。"),
    ("枫林社区嵌入式养老服务示范基地", "demo_community", "QH0102", "青禾区云锦街道枫林路 66 号",
     "居家社区养老、社区助餐、老年人能力评估", 40, "李春燕", "13800002103",
     "社区养老服务综合体集助餐、日间照料、康复护理于一体，日均服务老人 200 余人次。\n\n"
     "学员可以观摩助餐点运营与上门服务流程。"),
    ("锦绣社区“一老一小”服务综合体", "demo_community", "JP0102", "锦屏区东篱街道锦绣巷 9 号",
     "一老一小、儿童之家、隔代照料支持", 50, "吴敏", "13800002104",
     "将儿童之家与老年活动中心合并设置，开展代际融合活动。\n\n"
     "- 四点半课堂\n- 祖辈家长课堂\n- 代际志愿服务"),
    ("东篱街道社会工作服务站实训基地", "other", "JP01", "锦屏区东篱街道文昌路 2 号",
     "社工站运营、专业督导、个案与小组实务", 30, "刘静", "13800002105",
     "街道社工站向全市开放的实训基地，提供为期 1–3 天的**跟岗学习**。\n\n学员在督导带领下参与个案会议和小组活动。"),
    ("丹桂苑示范小区", "model_compound", "GH0103", "桂湖区桂湖街道丹桂路 128 号",
     "完整社区建设、垃圾分类、加装电梯协商", 40, "钟建华", "13800002106",
     "建成于 1998 年的老旧小区，经改造后成为全市完整社区建设示范小区。\n\n"
     "重点展示加装电梯的协商过程和垃圾分类的居民自治做法。"),
    ("白鹭街道社区应急安全主题街区", "theme_street", "GH02", "桂湖区白鹭街道滨江路",
     "社区应急、防汛演练、消防安全", 100, "孙建军", "13800002107",
     "沿江设置应急避难场所、微型消防站和防汛物资储备点。\n\n每年汛期前组织全市社区防汛**实战演练**观摩。"),
    ("大湾村乡村治理实训基地", "demo_community", "LJ0103", "临江县临江镇大湾村村委会",
     "乡村治理、村规民约、院坝说事", 60, "罗建平", "13800002108",
     "大湾村以“院坝说事会”推动村民自治，村规民约由全体村民讨论通过。\n\n适合乡镇、村社区工作者开展现场教学。"),
]

# name, title, affiliation, fields, contact, bio (Markdown)
EXPERTS = [
    ("钱立群", "教授", "安澜大学社会学院", "城市社区治理、社会组织发展", "13800003101",
     "研究城市基层治理二十余年，出版社区治理专著两部。\n\n长期为市、区两级提供社区建设政策咨询。"),
    ("许慧敏", "秘书长", "安澜市社会工作协会", "社工站建设、社会工作行业标准", "13800003102",
     "参与制定本市乡镇（街道）社工站建设运营指引。\n\n熟悉社会工作服务项目的**评估与督导**。"),
    ("邓志强", "教授", "中共安澜市委党校", "基层党建、群众工作", "13800003103",
     "主讲党建引领基层治理专题，多次参与社区书记轮训班授课。"),
    ("蒋文静", "心理治疗师", "安澜市精神卫生中心", "社区心理服务、心理危机干预", "13800003104",
     "负责社区心理服务站点的专业指导。\n\n- 心理危机识别与转介\n- 社区工作者压力管理"),
    ("冯永康", "高级工程师", "安澜市城市规划设计研究院", "老旧小区改造、完整社区建设", "13800003105",
     "主持多个老旧小区改造项目设计，重视改造过程中的**居民参与**。"),
    ("曾晓燕", "主任", "安澜市法律援助中心", "社区法律服务、婚姻家庭纠纷", "13800003106",
     "从事法律援助工作十五年，指导社区法律顾问和人民调解员开展工作。"),
]

# name, kind, cooperation, address, contact, phone, description (Markdown)
INSTITUTIONS = [
    (
        "安澜大学",
        "university",
        "课程共建、师资培训、课题研究、实习基地",
        "安澜市青禾区学府路 1 号",
        "陈志远",
        "13800005001",
        "安澜大学社会学院设有社会工作本科与硕士专业。\n\n与本市共建**社区治理研究基地**，每年接收社工专业学生到社工站实习。",
    ),
    (
        "安澜职业技术学院",
        "vocational",
        "专业共建、订单培养、技能培训",
        "安澜市锦屏区职教路 8 号",
        "马文博",
        "13800005002",
        "开设社区管理与服务、智慧健康养老服务与管理等专业。\n\n为社区工作者提供养老护理、活动策划等技能培训。",
    ),
    (
        "中共安澜市委党校",
        "party_school",
        "社区书记轮训、理论宣讲、案例教学",
        "安澜市桂湖区党校路 6 号",
        "郑雅琴",
        "13800005003",
        "承担全市社区党组织书记轮训任务。\n\n与培训办共同开发了一批基层治理**教学案例**。",
    ),
    (
        "安澜市社会治理研究中心",
        "research",
        "政策研究、项目评估、智库咨询",
        "安澜市青禾区政通路 20 号",
        "张国华",
        "13800005004",
        "市属社会治理研究机构，负责社区建设相关政策的评估与研究。",
    ),
    (
        "安澜开放大学",
        "university",
        "学历提升、在线课程、继续教育",
        "安澜市锦屏区文昌路 45 号",
        "林慧",
        "13800005005",
        "为社区工作者提供社会工作专业的学历继续教育。\n\n- 专科、本科学历提升\n- 线上课程学分互认",
    ),
]

# title, series, topics, editors, publisher, year, description (Markdown)
TEXTBOOKS = [
    ("社区工作者能力提升读本", "development", "政治素养、群众工作、数字化能力", "安澜市社区工作者培训办 编",
     "安澜大学出版社", 2024,
     "面向新入职社区工作者的基础读本。\n\n共分八章，涵盖社区工作者的角色定位、群众工作方法和数字化办公技能，每章附有练习与案例。"),
    ("社区社会组织培育实务", "development", "社区社会组织、志愿服务、公益创投", "钱立群、唐佳颖",
     "安澜大学出版社", 2023,
     "介绍社区社会组织从发现、孵化到规范运营的完整过程。\n\n书中收录了本市 10 个社区社会组织的**成长案例**。"),
    ("社区议事协商操作指南", "governance", "议事协商、居民参与、协商民主", "王晓梅、张国华",
     "安澜大学出版社", 2024,
     "以“议题收集—协商—决策—执行—评估”五步法为主线，提供可直接使用的会议流程和记录模板。\n\n"
     "适合社区书记、主任和社区工作者在议事会前后对照使用。"),
    ("社区应急管理与韧性社区建设", "governance", "应急预案、防汛演练、网格化管理", "孙建军 主编",
     "安澜应急出版社", 2025,
     "围绕社区常见的自然灾害与突发事件，讲解预案编制、物资储备和应急演练的方法。\n\n附录提供**演练脚本**样例。"),
    ("社区养老服务实务手册", "service", "居家养老、社区助餐、能力评估", "周海燕 主编",
     "安澜大学出版社", 2023,
     "系统介绍社区养老服务的主要项目与运营要点。\n\n- 老年人能力评估流程\n- 助餐点运营管理\n- 上门服务的安全规范"),
    ("儿童关爱保护与家庭服务", "service", "儿童关爱保护、家庭教育指导、儿童之家", "黄丽、刘静",
     "安澜大学出版社", 2024,
     "面向社区儿童主任和社区工作者，讲解困境儿童的发现、评估、帮扶与转介。\n\n每章配有真实改编的案例和讨论题。"),
]


def _units() -> dict[str, OrgUnit]:
    return {u.code: u for u in db.session.scalars(select(OrgUnit))}


def _seed_trainers(units) -> int:
    added = 0
    usernames = [t[0] for t in TRAINERS if t[0]]
    users = {u.username: u for u in db.session.scalars(select(User).where(User.username.in_(usernames)))}
    for username, name, kind, title, affiliation, expertise, code, phone, bio in TRAINERS:
        user = users.get(username) if username else None
        trainer = None
        if user is not None:
            trainer = db.session.scalars(select(Trainer).where(Trainer.user_id == user.id)).first()
        if trainer is None:
            trainer = db.session.scalars(select(Trainer).where(Trainer.name == name).order_by(Trainer.id)).first()
        if trainer is None:
            trainer = Trainer(name=name, kind=kind, title=title, affiliation=affiliation, expertise=expertise,
                              org_unit=units.get(code) if code else None, phone=phone, bio=bio, active=True)
            db.session.add(trainer)
            added += 1
        if user is not None and trainer.user_id is None:
            trainer.user = user
    return added


def seed_library() -> str:
    """Create the demo pools; idempotent by name. Bases on org units that do not exist are skipped."""
    units = _units()
    added = {"trainers": _seed_trainers(units), "bases": 0, "experts": 0, "institutions": 0, "textbooks": 0}
    db.session.flush()

    have = set(db.session.scalars(select(TrainingBase.name)))
    for name, kind, code, address, theme, capacity, contact, phone, description in BASES:
        if name in have or code not in units:
            continue
        db.session.add(TrainingBase(name=name, kind=kind, org_unit=units[code], address=address, theme=theme,
                                    capacity=capacity, contact_name=contact, contact_phone=phone,
                                    description=description, active=True))
        added["bases"] += 1

    have = set(db.session.scalars(select(Expert.name)))
    for name, title, affiliation, fields, contact, bio in EXPERTS:
        if name not in have:
            db.session.add(Expert(name=name, title=title, affiliation=affiliation, fields=fields, contact=contact,
                                  bio=bio, active=True))
            added["experts"] += 1

    have = set(db.session.scalars(select(Institution.name)))
    for name, kind, cooperation, address, contact, phone, description in INSTITUTIONS:
        if name not in have:
            db.session.add(Institution(name=name, kind=kind, cooperation=cooperation, address=address,
                                       contact_name=contact, contact_phone=phone, description=description,
                                       active=True))
            added["institutions"] += 1

    have = set(db.session.scalars(select(Textbook.title)))
    for title, series, topics, editors, publisher, year, description in TEXTBOOKS:
        if title not in have:
            db.session.add(Textbook(title=title, series=series, topics=topics, editors=editors, publisher=publisher,
                                    year=year, description=description))
            added["textbooks"] += 1
    db.session.flush()
    return "Library: " + ", ".join(f"{n} new {k}" for k, n in added.items())
