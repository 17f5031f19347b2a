"""Demo knowledge base: a region's articles on what residents ask the desk most, adopted by every
demo municipality through the real services.

Each region gets the articles below once; each municipality without articles adopts them all, adds
one article of its own and adapts one adopted text. The region then revises one article, so the
demo shows the "De bron is gewijzigd" notice in every municipality's list.
"""

from __future__ import annotations

from typing import Any

import click
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.db import database, utcnow
from core.knowledge.models import KnowledgeArticle, RegionalArticle
from core.knowledge.service import (
    ArticleContent,
    adopt,
    adoptable,
    content_of,
    create_article,
    create_regional,
    update_article,
    update_regional,
)
from core.tenancy.models import Tenant
from core.tenancy.service import working_for


def _article(key: str, topics: str, nl: tuple[str, str], fr: tuple[str, str], en: tuple[str, str]) -> dict[str, Any]:
    return {"key": key, "content": ArticleContent(
        question={"nl": nl[0], "fr": fr[0], "en": en[0]}, answer={"nl": nl[1], "fr": fr[1], "en": en[1]},
        topics=tuple(topics.split(",")))}


REGIONAL_ARTICLES = (
    _article(
        "grofvuil-ophaling", "afval,grofvuil",
        ("Hoe laat ik grofvuil ophalen?",
         "Grofvuil is afval dat niet in de restafvalzak past: meubels, matrassen, tapijt. U maakt een "
         "afspraak voor een ophaling aan huis via het e-loket of aan de balie. De ophaling is betalend "
         "per m³; u betaalt vooraf. Zet het grofvuil op de afgesproken dag vóór 7 uur aan de straat. "
         "U kunt grofvuil ook zelf naar het recyclagepark brengen."),
        ("Comment faire enlever mes encombrants ?",
         "Les encombrants sont les déchets qui ne rentrent pas dans le sac poubelle : meubles, matelas, "
         "tapis. Prenez rendez-vous pour un enlèvement à domicile via le guichet en ligne ou au guichet. "
         "L'enlèvement est payant par m³, à payer d'avance. Sortez les encombrants le jour convenu avant "
         "7 heures. Vous pouvez aussi les déposer vous-même au parc à conteneurs."),
        ("How do I get bulky waste collected?",
         "Bulky waste is waste that does not fit in the residual waste bag: furniture, mattresses, carpet. "
         "Book a collection at home through the online desk or at the counter. Collection is charged per "
         "m³, paid in advance. Put the waste out before 7 a.m. on the agreed day. You can also take it to "
         "the recycling park yourself."),
    ),
    _article(
        "afval-ophaalkalender", "afval,pmd,ophaalkalender",
        ("Wanneer wordt mijn afval opgehaald?",
         "De ophaaldagen voor restafval, PMD, papier en karton en gft staan in de ophaalkalender van uw "
         "straat. U vindt die in de Recycle!-app, op de website van de gemeente en aan de balie. Zet uw "
         "afval de avond voordien of vóór 6 uur 's ochtends buiten. Een vergeten ophaling meldt u via "
         "een melding op het e-loket."),
        ("Quand mes déchets sont-ils collectés ?",
         "Les jours de collecte des déchets résiduels, PMC, papiers-cartons et déchets organiques figurent "
         "dans le calendrier de votre rue, dans l'application Recycle!, sur le site de la commune et au "
         "guichet. Sortez vos déchets la veille au soir ou avant 6 heures. Signalez une collecte oubliée "
         "via le guichet en ligne."),
        ("When is my waste collected?",
         "Collection days for residual waste, PMD, paper and cardboard and organic waste are in your "
         "street's collection calendar: in the Recycle! app, on the municipality's website and at the "
         "counter. Put your waste out the evening before or before 6 a.m. Report a missed collection "
         "through the online desk."),
    ),
    _article(
        "parkeren-bewonerskaart", "parkeren,bewonerskaart,mobiliteit",
        ("Hoe vraag ik een bewonerskaart voor parkeren aan?",
         "Woont u in een zone met betalend parkeren of een blauwe zone, dan kunt u een bewonerskaart "
         "aanvragen. U moet ingeschreven zijn op een adres in de zone en de wagen moet op uw naam staan "
         "(of een bedrijfswagen die u als hoofdgebruiker rijdt). Vraag de kaart aan via het e-loket of "
         "aan de balie met uw inschrijvingsbewijs van het voertuig. De kaart is digitaal: ze is gekoppeld "
         "aan uw nummerplaat."),
        ("Comment demander une carte de riverain pour le stationnement ?",
         "Si vous habitez dans une zone de stationnement payant ou une zone bleue, vous pouvez demander une "
         "carte de riverain. Vous devez être domicilié dans la zone et le véhicule doit être à votre nom "
         "(ou être un véhicule de société dont vous êtes l'utilisateur principal). Faites la demande via le "
         "guichet en ligne ou au guichet avec le certificat d'immatriculation. La carte est numérique : "
         "elle est liée à votre plaque."),
        ("How do I apply for a residents' parking permit?",
         "If you live in a paid parking zone or a blue zone, you can apply for a residents' permit. You "
         "must be registered at an address in the zone and the car must be in your name (or a company car "
         "you mainly drive). Apply through the online desk or at the counter with the vehicle's "
         "registration certificate. The permit is digital: it is linked to your number plate."),
    ),
    _article(
        "identiteitskaart-eid", "identiteitskaart,eid,burgerzaken",
        ("Hoe vraag ik een nieuwe identiteitskaart (eID) aan?",
         "U krijgt een brief wanneer uw eID vervalt. Maak een afspraak bij de dienst Burgerzaken en breng "
         "uw huidige kaart en een recente pasfoto mee die aan de ICAO-normen voldoet. De aanvraag is "
         "betalend. Na ongeveer drie weken krijgt u een brief met uw PIN- en PUK-code; daarmee haalt u de "
         "kaart af. Verloren of gestolen? Laat de kaart meteen blokkeren via DOC STOP (00800 2123 2123)."),
        ("Comment demander une nouvelle carte d'identité (eID) ?",
         "Vous recevez une lettre quand votre eID expire. Prenez rendez-vous au service Population avec "
         "votre carte actuelle et une photo récente conforme aux normes OACI. La demande est payante. "
         "Après environ trois semaines, vous recevez une lettre avec vos codes PIN et PUK pour retirer la "
         "carte. Perdue ou volée ? Faites-la bloquer via DOC STOP (00800 2123 2123)."),
        ("How do I apply for a new identity card (eID)?",
         "You receive a letter when your eID expires. Book an appointment with the Civil Affairs "
         "department and bring your current card and a recent photo that meets the ICAO standards. The "
         "application is charged. After about three weeks you get a letter with your PIN and PUK codes to "
         "collect the card. Lost or stolen? Have it blocked through DOC STOP (00800 2123 2123)."),
    ),
    _article(
        "rijbewijs", "rijbewijs,burgerzaken,mobiliteit",
        ("Hoe vraag ik een (voorlopig) rijbewijs aan?",
         "Een voorlopig rijbewijs vraagt u aan bij de dienst Burgerzaken nadat u geslaagd bent voor het "
         "theorie-examen. Het definitieve rijbewijs vraagt u aan na het praktijkexamen, met het "
         "examenattest. Breng uw eID mee; een pasfoto is niet nodig als de foto op uw eID recent is. Het "
         "rijbewijs is betalend en u kunt het meestal na enkele werkdagen afhalen. Een oud papieren "
         "rijbewijs omwisselen naar het bankkaartmodel kan op dezelfde manier."),
        ("Comment demander un permis de conduire (provisoire) ?",
         "Le permis provisoire se demande au service Population après la réussite de l'examen théorique. "
         "Le permis définitif se demande après l'examen pratique, avec l'attestation d'examen. Apportez "
         "votre eID ; une photo n'est pas nécessaire si celle de votre eID est récente. Le permis est "
         "payant et se retire en général après quelques jours ouvrables. L'échange d'un ancien permis "
         "papier contre le modèle carte bancaire se fait de la même façon."),
        ("How do I apply for a (provisional) driving licence?",
         "Apply for a provisional licence at the Civil Affairs department after passing the theory exam. "
         "Apply for the full licence after the practical exam, with the exam certificate. Bring your eID; "
         "no photo is needed if the one on your eID is recent. The licence is charged and can usually be "
         "collected after a few working days. Exchanging an old paper licence for the card model works the "
         "same way."),
    ),
    _article(
        "uittreksel-strafregister", "uittreksel,strafregister,attest",
        ("Hoe krijg ik een uittreksel uit het strafregister?",
         "Het uittreksel uit het strafregister (vroeger 'bewijs van goed gedrag en zeden') downloadt u zelf "
         "met uw eID of itsme via Mijn Burgerprofiel of het e-loket van de gemeente. Lukt dat niet, dan "
         "vraagt u het aan de balie van Burgerzaken. Zeg waarvoor u het nodig hebt: voor werk met "
         "minderjarigen is er een apart model (artikel 596, tweede lid). Het uittreksel is gratis."),
        ("Comment obtenir un extrait de casier judiciaire ?",
         "L'extrait de casier judiciaire (anciennement « certificat de bonne vie et mœurs ») se télécharge "
         "avec votre eID ou itsme via Mon Profil Citoyen ou le guichet en ligne de la commune. Sinon, "
         "demandez-le au guichet du service Population. Précisez l'usage : pour travailler avec des "
         "mineurs, il existe un modèle spécial (article 596, alinéa 2). L'extrait est gratuit."),
        ("How do I get an extract from the criminal record?",
         "You download the extract from the criminal record (formerly 'certificate of good conduct') "
         "yourself with your eID or itsme through My Citizen Profile or the municipality's online desk. If "
         "that does not work, ask at the Civil Affairs counter. Say what you need it for: working with "
         "minors requires a special model (article 596, second paragraph). The extract is free."),
    ),
    _article(
        "huwelijk", "huwelijk,burgerlijke stand",
        ("Hoe en wanneer doen wij aangifte van ons huwelijk?",
         "U doet samen aangifte van het huwelijk bij de ambtenaar van de burgerlijke stand van de gemeente "
         "waar een van u beiden ingeschreven is, ten vroegste zes maanden en ten laatste veertien dagen "
         "vóór de huwelijksdatum. Maak een afspraak; breng uw eID mee en, als u in het buitenland geboren "
         "bent, uw geboorteakte. Bij de aangifte kiest u de datum en het uur van de plechtigheid."),
        ("Comment et quand faire la déclaration de mariage ?",
         "Vous faites ensemble la déclaration de mariage auprès de l'officier de l'état civil de la commune "
         "où l'un de vous est inscrit, au plus tôt six mois et au plus tard quatorze jours avant la date du "
         "mariage. Prenez rendez-vous ; apportez votre eID et, si vous êtes né à l'étranger, votre acte de "
         "naissance. Lors de la déclaration, vous choisissez la date et l'heure de la cérémonie."),
        ("How and when do we give notice of our marriage?",
         "You give notice of marriage together to the registrar of the municipality where one of you is "
         "registered, at the earliest six months and at the latest fourteen days before the wedding. Book "
         "an appointment; bring your eID and, if you were born abroad, your birth certificate. At the "
         "notice you choose the date and time of the ceremony."),
    ),
    _article(
        "verhuizing-adreswijziging", "verhuizing,adreswijziging,burgerzaken",
        ("Ik verhuis. Hoe geef ik mijn adreswijziging door?",
         "Geef uw verhuizing binnen acht werkdagen door aan de gemeente waar u gaat wonen: online via Mijn "
         "Burgerprofiel of het e-loket, of aan de balie. De wijkagent komt daarna langs om te controleren "
         "dat u er echt woont. Na zijn positief verslag krijgt u een brief om het adres op uw eID te laten "
         "aanpassen bij Burgerzaken. Vergeet niet zelf uw bank, ziekenfonds, werkgever en "
         "energieleverancier te verwittigen."),
        ("Je déménage. Comment communiquer mon changement d'adresse ?",
         "Déclarez votre déménagement dans les huit jours ouvrables à la commune où vous allez habiter : en "
         "ligne via Mon Profil Citoyen ou le guichet en ligne, ou au guichet. L'agent de quartier passe "
         "ensuite vérifier que vous y habitez. Après son rapport positif, vous recevez une lettre pour faire "
         "modifier l'adresse sur votre eID. Prévenez vous-même votre banque, mutuelle, employeur et "
         "fournisseur d'énergie."),
        ("I am moving. How do I report my change of address?",
         "Report your move within eight working days to the municipality you move to: online through My "
         "Citizen Profile or the online desk, or at the counter. The community police officer then visits "
         "to check that you live there. After a positive report you get a letter to have the address on "
         "your eID changed at Civil Affairs. Remember to tell your bank, health insurer, employer and "
         "energy supplier yourself."),
    ),
    _article(
        "omgevingsvergunning", "omgevingsvergunning,bouwen,verbouwen",
        ("Heb ik een omgevingsvergunning nodig om te bouwen of te verbouwen?",
         "Voor de meeste bouwwerken, verbouwingen met stabiliteitswerken, het slopen van een gebouw of het "
         "kappen van bomen hebt u een omgevingsvergunning nodig. Sommige kleine werken zijn vrijgesteld of "
         "alleen meldingsplichtig. U dient de aanvraag digitaal in via het Omgevingsloket Vlaanderen, "
         "meestal met een architect. Twijfelt u? Vraag een voorafgaand gesprek aan bij de dienst Omgeving."),
        ("Ai-je besoin d'un permis d'environnement pour construire ou rénover ?",
         "La plupart des constructions, des rénovations touchant à la stabilité, la démolition d'un "
         "bâtiment ou l'abattage d'arbres exigent un permis d'environnement (omgevingsvergunning). "
         "Certains petits travaux sont dispensés ou soumis à simple déclaration. La demande se fait en "
         "ligne via l'Omgevingsloket Vlaanderen, généralement avec un architecte. En cas de doute, demandez "
         "un entretien préalable au service Environnement."),
        ("Do I need an environmental permit to build or renovate?",
         "Most buildings, renovations involving structural work, demolishing a building or felling trees "
         "need an environmental permit (omgevingsvergunning). Some small works are exempt or only need a "
         "notification. You apply online through the Omgevingsloket Vlaanderen, usually with an architect. "
         "In doubt? Ask the Environment department for a preliminary meeting."),
    ),
    _article(
        "premies-wonen", "premies,wonen,energie",
        ("Welke premies kan ik krijgen voor mijn woning?",
         "Voor energiebesparende werken (dakisolatie, hoogrendementsglas, warmtepomp) en renovatie vraagt u "
         "Mijn VerbouwPremie aan bij de Vlaamse overheid, binnen twee jaar na de eindfactuur. Daarnaast "
         "geeft de gemeente eigen premies, bijvoorbeeld voor een regenwaterput, een groendak of het "
         "afkoppelen van regenwater. Het Energiehuis van de regio helpt u gratis met advies en de aanvraag."),
        ("Quelles primes puis-je obtenir pour mon logement ?",
         "Pour les travaux d'économie d'énergie (isolation de toiture, vitrage à haut rendement, pompe à "
         "chaleur) et de rénovation, demandez la Mijn VerbouwPremie à l'autorité flamande, dans les deux ans "
         "suivant la facture finale. La commune accorde aussi ses propres primes, par exemple pour une "
         "citerne d'eau de pluie ou une toiture verte. La Maison de l'énergie de la région vous aide "
         "gratuitement."),
        ("Which grants can I get for my home?",
         "For energy-saving works (roof insulation, high-efficiency glazing, heat pump) and renovation, "
         "apply for Mijn VerbouwPremie from the Flemish government within two years of the final invoice. "
         "The municipality also gives its own grants, for example for a rainwater tank, a green roof or "
         "disconnecting rainwater. The region's Energy House helps you with advice and the application "
         "for free."),
    ),
)

OWN_ARTICLE = ArticleContent(
    question={"nl": "Wanneer is het gemeentehuis open?",
              "fr": "Quand la maison communale est-elle ouverte ?",
              "en": "When is the town hall open?"},
    answer={"nl": "Het gemeentehuis is open op werkdagen van 8.30 tot 12 uur en op maandagavond van 17 tot 19 uur, "
                  "voor Burgerzaken alleen op afspraak. Een afspraak maakt u via het e-loket of telefonisch.",
            "fr": "La maison communale est ouverte les jours ouvrables de 8h30 à 12h et le lundi soir de 17h à "
                  "19h ; le service Population uniquement sur rendez-vous, via le guichet en ligne ou par "
                  "téléphone.",
            "en": "The town hall is open on working days from 8.30 a.m. to noon and on Monday evenings from 5 to "
                  "7 p.m.; Civil Affairs by appointment only, through the online desk or by phone."},
    topics=("openingsuren", "gemeentehuis"),
)
REVISED_KEY = "grofvuil-ophaling"  # the region revises it after the municipalities adopted it
ADAPTED_KEY = "parkeren-bewonerskaart"  # each municipality adds its own practical detail


def _with_dutch_addition(content: ArticleContent, addition: str) -> ArticleContent:
    return ArticleContent(content.question, {**content.answer, "nl": content.answer["nl"] + addition}, content.topics)


def _seed_region(session: Session, region_id: int) -> int:
    if session.scalar(select(RegionalArticle.id).where(RegionalArticle.region_id == region_id).limit(1)):
        return 0
    now = utcnow()
    for spec in REGIONAL_ARTICLES:
        create_regional(session, region_id, spec["key"], spec["content"], now)
    return len(REGIONAL_ARTICLES)


def _seed_municipality(session: Session, tenant: Tenant) -> int:
    """Adopt every regional article, adapt one, add one of its own; ``0`` if it has articles already."""
    if session.scalar(select(KnowledgeArticle.id).limit(1)):
        return 0
    now = utcnow()
    adopted = {regional.key: adopt(session, tenant, regional.id, now) for regional in adoptable(session, tenant)}
    adapted = adopted.get(ADAPTED_KEY)
    if adapted is not None:
        addition = f" In {tenant.name} kunt u de kaart ook aan het onthaal van het gemeentehuis ophalen."
        update_article(adapted, _with_dutch_addition(content_of(adapted), addition), now)
    create_article(session, OWN_ARTICLE, now)
    return len(adopted) + 1


def _revise_region(session: Session, region_id: int) -> None:
    """The region changes one article once, so adopters see that their source changed."""
    article = session.scalar(select(RegionalArticle).where(RegionalArticle.region_id == region_id,
                                                           RegionalArticle.key == REVISED_KEY))
    if article is not None and article.version == 1:
        note = " Sinds dit jaar kunt u per ophaling hoogstens 3 m³ aanbieden."
        update_regional(article, _with_dutch_addition(content_of(article), note), utcnow())


def seed_demo_knowledge(app: Flask, tenants: list[str]) -> None:
    """Regional articles for the municipalities' regions, adopted by each municipality (idempotent)."""
    with app.app_context():
        regions: set[int] = set()
        for slug in tenants:
            with working_for(slug) as (session, tenant):
                if tenant.region_id not in regions:
                    regions.add(tenant.region_id)
                    if created := _seed_region(session, tenant.region_id):
                        click.echo(f"  regio {tenant.region.name}: {created} kennisbankartikels")
                if count := _seed_municipality(session, tenant):
                    click.echo(f"  {tenant.name}: {count} kennisbankartikels (overgenomen en eigen)")
        with database(app).session_scope() as session:  # regional articles are platform data
            for region_id in sorted(regions):
                _revise_region(session, region_id)
