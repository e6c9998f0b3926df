// Test-only: a minimal Hadoop Streaming on Hadoop's real MapReduce framework.
//
// The hadoop-streaming jar is not installable here, but pyspark ships Hadoop's MapReduce
// client (Job, LocalJobRunner, MapTask, ReduceTask, RunJar, FsShell). This driver takes the
// streaming command line the generated Main.py and run_hadoop.sh use (-D via ToolRunner,
// -files, -input, -output, -mapper, -reducer) and pipes records through the mapper and reducer
// commands on stdin/stdout, splitting key and value at the first tab, as Streaming does. The
// framework itself splits the input, sorts by key, partitions to the reducers and writes
// part-r-NNNNN files.
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.conf.Configured;
import org.apache.hadoop.io.LongWritable;
import org.apache.hadoop.io.Text;
import org.apache.hadoop.mapreduce.Job;
import org.apache.hadoop.mapreduce.Mapper;
import org.apache.hadoop.mapreduce.Reducer;
import org.apache.hadoop.mapreduce.TaskInputOutputContext;
import org.apache.hadoop.mapreduce.lib.input.FileInputFormat;
import org.apache.hadoop.mapreduce.lib.output.FileOutputFormat;
import org.apache.hadoop.util.Tool;
import org.apache.hadoop.util.ToolRunner;

public class ToreadorStreaming extends Configured implements Tool {

    /** A streaming command: lines in on stdin, lines out on stdout, read by a thread. */
    static final class Pipe {
        private final Process process;
        private final BufferedWriter input;
        private final List<String> output = Collections.synchronizedList(new ArrayList<>());
        private final Thread reader;

        Pipe(String command, String workDir) throws IOException {
            process = new ProcessBuilder("/bin/sh", "-c", command)
                    .directory(new File(workDir))
                    .redirectError(ProcessBuilder.Redirect.INHERIT)
                    .start();
            input = new BufferedWriter(
                    new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8));
            BufferedReader lines = new BufferedReader(
                    new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
            reader = new Thread(() -> {
                try {
                    for (String line = lines.readLine(); line != null; line = lines.readLine()) {
                        output.add(line);
                    }
                } catch (IOException error) {
                    throw new UncheckedIOException(error);
                }
            });
            reader.start();
        }

        void write(String line) throws IOException {
            input.write(line);
            input.write('\n');
        }

        List<String> finish(String role) throws IOException, InterruptedException {
            input.close();
            int status = process.waitFor();
            reader.join();
            if (status != 0) {
                throw new IOException(role + " command exited with status " + status);
            }
            return output;
        }
    }

    static void emit(List<String> lines, TaskInputOutputContext<?, ?, Text, Text> context)
            throws IOException, InterruptedException {
        for (String line : lines) {
            int tab = line.indexOf('\t');
            if (tab < 0) {
                context.write(new Text(line), new Text(""));
            } else {
                context.write(new Text(line.substring(0, tab)), new Text(line.substring(tab + 1)));
            }
        }
    }

    public static class StreamMapper extends Mapper<LongWritable, Text, Text, Text> {
        private Pipe pipe;

        @Override
        protected void setup(Context context) throws IOException {
            Configuration conf = context.getConfiguration();
            pipe = new Pipe(conf.get("toreador.mapper"), conf.get("toreador.workdir"));
        }

        @Override
        protected void map(LongWritable offset, Text line, Context context) throws IOException {
            pipe.write(line.toString());
        }

        @Override
        protected void cleanup(Context context) throws IOException, InterruptedException {
            emit(pipe.finish("mapper"), context);
        }
    }

    public static class StreamReducer extends Reducer<Text, Text, Text, Text> {
        private Pipe pipe;

        @Override
        protected void setup(Context context) throws IOException {
            Configuration conf = context.getConfiguration();
            pipe = new Pipe(conf.get("toreador.reducer"), conf.get("toreador.workdir"));
        }

        @Override
        protected void reduce(Text key, Iterable<Text> values, Context context)
                throws IOException {
            for (Text value : values) {
                pipe.write(key + "\t" + value);
            }
        }

        @Override
        protected void cleanup(Context context) throws IOException, InterruptedException {
            emit(pipe.finish("reducer"), context);
        }
    }

    @Override
    public int run(String[] args) throws Exception {
        Map<String, String> options = new HashMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) {
            options.put(args[i], args[i + 1]);
        }
        for (String required : new String[] {"-input", "-output", "-mapper", "-reducer"}) {
            if (!options.containsKey(required)) {
                System.err.println("ToreadorStreaming: missing " + required);
                return 2;
            }
        }
        // -files: what the tasks find in their working directory (the distributed cache).
        // ToolRunner's GenericOptionsParser takes -files itself and leaves them in "tmpfiles".
        Configuration conf = getConf();
        Path work = Files.createTempDirectory("toreador-streaming-");
        String files = options.getOrDefault("-files", conf.get("tmpfiles", ""));
        for (String file : files.split(",")) {
            if (!file.isEmpty()) {
                Path source = Paths.get(new org.apache.hadoop.fs.Path(file).toUri().getPath());
                Files.copy(source, work.resolve(source.getFileName()),
                        StandardCopyOption.REPLACE_EXISTING);
            }
        }
        conf.set("toreador.mapper", options.get("-mapper"));
        conf.set("toreador.reducer", options.get("-reducer"));
        conf.set("toreador.workdir", work.toString());
        Job job = Job.getInstance(conf, "toreador streaming");
        job.setJarByClass(ToreadorStreaming.class);
        job.setMapperClass(StreamMapper.class);
        job.setReducerClass(StreamReducer.class);
        job.setMapOutputKeyClass(Text.class);
        job.setMapOutputValueClass(Text.class);
        job.setOutputKeyClass(Text.class);
        job.setOutputValueClass(Text.class);
        FileInputFormat.addInputPath(job, new org.apache.hadoop.fs.Path(options.get("-input")));
        FileOutputFormat.setOutputPath(job, new org.apache.hadoop.fs.Path(options.get("-output")));
        // Hadoop Streaming's own StreamJob asks every second whether its job is done; Job's
        // waitForCompletion would wait 5 s between questions (its default poll interval)
        job.getConfiguration().setInt("mapreduce.client.completion.pollinterval", 1000);
        return job.waitForCompletion(false) ? 0 : 1;
    }

    public static void main(String[] args) throws Exception {
        System.exit(ToolRunner.run(new Configuration(), new ToreadorStreaming(), args));
    }
}
