/*-------------------------------------------------------------------------
 *
 * bm25_score.c
 *	  Scores of the rows a lance_bm25 scan returns, handed to the
 *	  SELECT list instead of computed again.
 *
 * In SELECT id, body <@> 'q' FROM t ORDER BY body <@> 'q' LIMIT 10 the
 * executor evaluates the SELECT list's body <@> 'q' for each row the index
 * scan returns, although the scan has just computed that very score.
 * Computing it again means tokenizing the row's text, which with a text
 * search configuration (stemming every word) is most of a top-10 query's
 * time.  So:
 *
 *	- each ranking scan publishes the rows it ranked, with their scores, in
 *	  a backend-local list, and says which of them it returned last;
 *	- after planning, a planner hook looks for index scans of lance_bm25
 *	  that order by body <@> q and, in the expressions those scan nodes
 *	  themselves evaluate (their target list and filter), replaces
 *	  body <@> q and lance_bm25_score(body, q) with the same query by
 *	  lance_bm25_scored(body, q, index, ctid, negated);
 *	- lance_bm25_scored returns the published score when the scan of that
 *	  index and query has just returned the row with that ctid, and
 *	  otherwise scores the row's text as before (bm25_ops.c).
 *
 * A scan node evaluates its target list and filter right after the scan
 * returns the row (ExecScan), so the row at hand is the one the scan
 * returned last.  When the heap tuple's ctid is not the one the index
 * returned (a HOT chain, an EvalPlanQual recheck) the ctids differ and the
 * row is scored from its text, which is what it says now.  The published
 * scores are the scan's own arrays; a reset callback on the scan's memory
 * context unlinks them, so an error that skips endscan leaves nothing
 * dangling.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/sysattr.h"
#include "am/bm25/bm25.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "commands/defrem.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/planner.h"
#include "parser/parse_func.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

/* the ranking scans of this backend that have rows to publish */
static Bm25Published *published = NULL;

static planner_hook_type prev_planner_hook = NULL;

/* Unlink a scan's published rows (its memory context is reset or gone). */
static void
Unpublish(void *arg)
{
	Bm25Published **p = &published;

	while (*p != NULL)
	{
		if (*p == arg)
		{
			*p = (*p)->next;
			return;
		}
		p = &(*p)->next;
	}
}

Bm25Published *
Bm25Publish(MemoryContext cxt, Oid indexoid, text *query, const ItemPointerData *tids,
			const double *scores, size_t n)
{
	Bm25Published *pub = MemoryContextAllocZero(cxt, sizeof(Bm25Published));
	MemoryContextCallback *cb = MemoryContextAllocZero(cxt, sizeof(MemoryContextCallback));
	Size		qlen = VARSIZE_ANY(query);

	pub->indexoid = indexoid;
	pub->query = MemoryContextAlloc(cxt, qlen);
	memcpy(pub->query, query, qlen);
	pub->tids = tids;
	pub->scores = scores;
	pub->n = n;
	pub->cur = n;
	cb->func = Unpublish;
	cb->arg = pub;
	MemoryContextRegisterResetCallback(cxt, cb);
	pub->next = published;
	published = pub;
	return pub;
}

bool
Bm25PublishedScore(Oid indexoid, text *query, ItemPointer tid, double *score)
{
	for (Bm25Published *p = published; p != NULL; p = p->next)
	{
		if (p->indexoid != indexoid || p->cur >= p->n ||
			!ItemPointerEquals((ItemPointer) &p->tids[p->cur], tid))
			continue;
		if (VARSIZE_ANY_EXHDR(p->query) != VARSIZE_ANY_EXHDR(query) ||
			memcmp(VARDATA_ANY(p->query), VARDATA_ANY(query), VARSIZE_ANY_EXHDR(query)) != 0)
			continue;
		*score = p->scores[p->cur];
		return true;
	}
	return false;
}

/* What the rewrite of one scan node's expressions needs. */
typedef struct RewriteContext
{
	OpExpr	   *orderby;		/* the scan's body <@> q */
	Oid			score_fn;		/* lance_bm25_score for the column's type */
	Oid			scored_fn;		/* lance_bm25_scored for the column's type */
	Oid			indexoid;
	Index		scanrelid;
} RewriteContext;

static Node *
MakeScored(RewriteContext *cx, List *args, bool negated)
{
	FuncExpr   *f = makeFuncExpr(cx->scored_fn, FLOAT8OID, NIL, InvalidOid,
								 cx->orderby->inputcollid, COERCE_EXPLICIT_CALL);

	f->args = list_make5(copyObject(linitial(args)), copyObject(lsecond(args)),
						 makeConst(REGCLASSOID, -1, InvalidOid, sizeof(Oid),
								   ObjectIdGetDatum(cx->indexoid), false, true),
						 makeVar(cx->scanrelid, SelfItemPointerAttributeNumber, TIDOID, -1,
								 InvalidOid, 0),
						 makeBoolConst(negated, false));
	return (Node *) f;
}

static Node *
RewriteScores(Node *node, RewriteContext *cx)
{
	if (node == NULL)
		return NULL;
	if (IsA(node, OpExpr) && equal(node, cx->orderby))
		return MakeScored(cx, ((OpExpr *) node)->args, true);
	if (IsA(node, FuncExpr) && ((FuncExpr *) node)->funcid == cx->score_fn &&
		equal(((FuncExpr *) node)->args, cx->orderby->args))
		return MakeScored(cx, ((FuncExpr *) node)->args, false);
	return expression_tree_mutator(node, RewriteScores, cx);
}

/* A function named like fn's sibling name, in fn's schema, for these types. */
static Oid
SiblingFunction(Oid fn, const char *name, int nargs, Oid *argtypes)
{
	char	   *nsp = get_namespace_name(get_func_namespace(fn));

	if (nsp == NULL)
		return InvalidOid;
	return LookupFuncName(list_make2(makeString(nsp), makeString(pstrdup(name))),
						  nargs, argtypes, true);
}

/* Rewrite the scores in one index scan node, if it ranks through lance_bm25. */
static void
RewriteIndexScan(IndexScan *scan, Oid bm25_am)
{
	RewriteContext cx;
	HeapTuple	tup;
	Oid			relam;
	Oid			coltype;
	Oid			score_args[2];
	Oid			scored_args[5];

	if (scan->indexorderbyorig == NIL || !IsA(linitial(scan->indexorderbyorig), OpExpr))
		return;
	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(scan->indexid));
	if (!HeapTupleIsValid(tup))
		return;
	relam = ((Form_pg_class) GETSTRUCT(tup))->relam;
	ReleaseSysCache(tup);
	if (relam != bm25_am)
		return;

	cx.orderby = linitial(scan->indexorderbyorig);
	if (list_length(cx.orderby->args) != 2)
		return;
	coltype = exprType(linitial(cx.orderby->args));
	score_args[0] = coltype;
	score_args[1] = TEXTOID;
	scored_args[0] = coltype;
	scored_args[1] = TEXTOID;
	scored_args[2] = REGCLASSOID;
	scored_args[3] = TIDOID;
	scored_args[4] = BOOLOID;
	cx.score_fn = SiblingFunction(cx.orderby->opfuncid, "lance_bm25_score", 2, score_args);
	cx.scored_fn = SiblingFunction(cx.orderby->opfuncid, "lance_bm25_scored", 5, scored_args);
	if (!OidIsValid(cx.scored_fn))
		return;					/* an extension script without it */
	cx.indexoid = scan->indexid;
	cx.scanrelid = scan->scan.scanrelid;
	scan->scan.plan.targetlist = (List *)
		RewriteScores((Node *) scan->scan.plan.targetlist, &cx);
	scan->scan.plan.qual = (List *) RewriteScores((Node *) scan->scan.plan.qual, &cx);
}

static void
RewritePlan(Plan *plan, Oid bm25_am)
{
	ListCell   *lc;

	if (plan == NULL)
		return;
	check_stack_depth();
	switch (nodeTag(plan))
	{
		case T_IndexScan:
			RewriteIndexScan((IndexScan *) plan, bm25_am);
			break;
		case T_Append:
			foreach(lc, ((Append *) plan)->appendplans)
				RewritePlan(lfirst(lc), bm25_am);
			break;
		case T_MergeAppend:
			foreach(lc, ((MergeAppend *) plan)->mergeplans)
				RewritePlan(lfirst(lc), bm25_am);
			break;
		case T_SubqueryScan:
			RewritePlan(((SubqueryScan *) plan)->subplan, bm25_am);
			break;
		case T_CustomScan:
			foreach(lc, ((CustomScan *) plan)->custom_plans)
				RewritePlan(lfirst(lc), bm25_am);
			break;
		default:
			break;
	}
	RewritePlan(plan->lefttree, bm25_am);
	RewritePlan(plan->righttree, bm25_am);
}

static PlannedStmt *
Bm25Planner(Query *parse, const char *query_string, int cursorOptions, ParamListInfo boundParams)
{
	PlannedStmt *stmt;
	Oid			bm25_am;
	ListCell   *lc;

	if (prev_planner_hook)
		stmt = prev_planner_hook(parse, query_string, cursorOptions, boundParams);
	else
		stmt = standard_planner(parse, query_string, cursorOptions, boundParams);

	/* a database without the extension has no such access method */
	bm25_am = get_index_am_oid("lance_bm25", true);
	if (!OidIsValid(bm25_am))
		return stmt;
	RewritePlan(stmt->planTree, bm25_am);
	foreach(lc, stmt->subplans)
		RewritePlan(lfirst(lc), bm25_am);
	return stmt;
}

void
Bm25InitScores(void)
{
	prev_planner_hook = planner_hook;
	planner_hook = Bm25Planner;
}
