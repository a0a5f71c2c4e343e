// Reads a TMDL folder (a semantic model's definition/) with Microsoft's own TmdlSerializer
// (Microsoft.AnalysisServices.Tabular) and lists what it read, one tab-separated line an object:
//   table <name>
//   measure <table> <name>
//   relationship <from table>.<column> <to table>.<column> <True|False: active>
//   expression <name>
// On any error: the error's type and message on stderr, exit code 1.
// Built and run by tests/python/test_powerbi_vendor_tools.py (mcs, mono).
using System;
using Microsoft.AnalysisServices.Tabular;

static class TmdlCheck
{
    static int Main(string[] args)
    {
        if (args.Length != 1)
        {
            Console.Error.WriteLine("usage: TmdlCheck.exe <definition folder>");
            return 2;
        }
        try
        {
            Model model = TmdlSerializer.DeserializeDatabaseFromFolder(args[0]).Model;
            foreach (Table table in model.Tables)
            {
                Console.WriteLine("table\t{0}", table.Name);
                foreach (Measure measure in table.Measures)
                    Console.WriteLine("measure\t{0}\t{1}", table.Name, measure.Name);
            }
            foreach (Relationship item in model.Relationships)
            {
                var relationship = (SingleColumnRelationship)item;
                Console.WriteLine(
                    "relationship\t{0}.{1}\t{2}.{3}\t{4}",
                    relationship.FromTable.Name, relationship.FromColumn.Name,
                    relationship.ToTable.Name, relationship.ToColumn.Name, relationship.IsActive);
            }
            foreach (NamedExpression expression in model.Expressions)
                Console.WriteLine("expression\t{0}", expression.Name);
            return 0;
        }
        catch (Exception error)
        {
            Console.Error.WriteLine("{0}: {1}", error.GetType().FullName, error.Message);
            return 1;
        }
    }
}
